// A person's card: data, documents (passport office only), representatives, registrations with prints.
import { api, dateTimeLabel, fill, h, runPage, showStatus } from "../cabinet.js";
import { FORMS, KINDS, REASONS, REGISTRY, formValues, lastDay, printUrl, ruDate } from "../registry.js";

const SEX = { male: "мужской", female: "женский" };
const REPRESENTATIVE = { parent: "родитель", adoptive_parent: "усыновитель", guardian: "опекун", trustee: "попечитель" };

// The three change forms: each posts to the API and reloads the card (the history shows the change).
function wireChanges(id) {
  const error = document.getElementById("change-error");
  const submit = (formId, path, body) => {
    const form = document.getElementById(formId);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await api(`/registry/persons/${encodeURIComponent(id)}/${path}`, { method: "POST", json: body(formValues(form)) });
        showStatus("Изменения сохранены.", "ok");
        location.reload();
      } catch (err) {
        error.textContent = err.message;
        error.hidden = false;
      }
    });
  };
  submit("name-form", "names", (v) => v);
  submit("document-form", "documents", (v) => v);
  submit("representative-form", "representatives", (v) => ({ ...v, representative_id: Number(v.representative_id) }));
  document.getElementById("r-find-button").addEventListener("click", async () => {
    const q = document.getElementById("r-find").value.trim();
    if (q.length < 2) return;
    const found = await api(`/registry/persons?${new URLSearchParams({ q })}`);
    fill(document.getElementById("r-person"), ...found.filter((p) => String(p.person_id) !== String(id)).map((p) =>
      h("option", { value: p.person_id, text: `${p.full_name}${p.birth_date ? `, ${ruDate(p.birth_date)}` : ""}` })));
  });
}

// Load the card and fill the page; returns the card (the data form compares its values with it).
async function render(id) {
  const p = await api(`/registry/persons/${encodeURIComponent(id)}`);
  document.getElementById("page-title").textContent = p.full_name;
  const rows = [
    ["ФИО", p.full_name],
    ["Прежние ФИО", p.names.slice(0, -1).map((n) => n.full_name).join("; ")],
    ["Дата рождения", ruDate(p.birth_date)],
    ["Место рождения", p.birth_place],
    ["Пол", SEX[p.sex] || ""],
    ["Гражданство", p.citizenship],
    ["СНИЛС", p.snils || ""],
    ["Телефон", p.phone],
    ["Электронная почта", p.email],
    ["Дата смерти", ruDate(p.death_date)],
  ].filter(([, v]) => v);
  fill(document.getElementById("person-data"), ...rows.flatMap(([k, v]) => [h("dt", { text: k }), h("dd", { text: v })]));
  fill(document.getElementById("person-documents"), ...p.documents.map((d) =>
    h("li", { class: d.replaced_on ? "muted" : "" }, d.text, d.replaced_on ? ` (заменён ${ruDate(d.replaced_on)})` : "")));
  fill(document.getElementById("person-relations"),
    ...p.representatives.map((r) => h("li", {}, `${REPRESENTATIVE[r.kind] || r.kind}: `, h("a", { href: `${REGISTRY}/person?id=${r.person_id}`, text: r.full_name }))),
    ...p.represented.map((r) => h("li", {}, `представляет (${REPRESENTATIVE[r.kind] || r.kind}): `, h("a", { href: `${REGISTRY}/person?id=${r.person_id}`, text: r.full_name }))));
  fill(document.getElementById("person-registrations"), ...p.registrations.map((r) =>
    h("tr", {},
      h("td", {}, h("a", { href: `${REGISTRY}/?${new URLSearchParams({ building_id: r.building_id, premise_no: r.premise_no })}`, text: `дом ${r.building_id}, кв. ${r.premise_no}` })),
      h("td", { text: KINDS[r.kind] }), h("td", { text: ruDate(r.start) }), h("td", { text: lastDay(r.end) }),
      h("td", { text: REASONS[r.end_reason] || "" }),
      h("td", {}, ...["form6", "form9", "registration"].map((kind) =>
        h("a", { class: "button small", href: printUrl({ kind, arrival_id: r.arrival_id }), text: FORMS[kind] })),
        h("a", { class: "button small", href: printUrl({ kind: "period", person_id: p.person_id, building_id: r.building_id, premise_no: r.premise_no, first: r.start, last: new Date().toISOString().slice(0, 10) }), text: FORMS.period })))));
  const log = await api(`/registry/audit?person_id=${encodeURIComponent(id)}&limit=50`);
  fill(document.getElementById("person-audit"), ...log.map((e) =>
    h("li", { text: `${dateTimeLabel(e.at)} · ${e.actor} (${e.actor_role}) · ${e.action} · ${e.subject}${e.detail ? ` · ${e.detail}` : ""}` })));
  return p;
}

// The basic data form: only the fields that differ from the card are sent (PATCH), "" clears an optional
// field. The page checks the shape of each value; the register checks the meaning (the СНИЛС control
// number, a birth date in the future or after death) and says it per field, in Russian.
const DATA_FIELDS = ["birth_date", "birth_place", "sex", "citizenship", "snils", "phone", "email"];
const FIELD_INPUT = (field) => document.getElementById(`p-${field.replace("_", "-")}`);
const FIELD_ERROR = (field) => document.getElementById(`p-${field.replace("_", "-")}-error`);
const FIELD_RU = {
  birth_date: "Дата рождения", birth_place: "Место рождения", sex: "Пол", citizenship: "Гражданство",
  snils: "СНИЛС", phone: "Телефон", email: "Электронная почта",
};
const MAX_LENGTH = { birth_place: 300, citizenship: 100, phone: 50, email: 200 };
const OPTIONAL_NULL = new Set(["birth_date", "sex", "snils"]); // "" is sent as null
const TYPE_RU = {
  string_pattern_mismatch: "неверный формат",
  string_too_long: "слишком длинное значение",
  string_too_short: "заполните поле",
  missing: "заполните поле",
  date_from_datetime_parsing: "дата указана неверно",
  date_parsing: "дата указана неверно",
  date_type: "дата указана неверно",
  literal_error: "недопустимое значение",
};

function cardValue(p, field) {
  const v = p[field];
  return v === null || v === undefined ? "" : String(v).slice(0, field === "birth_date" ? 10 : undefined);
}

function fillDataForm(p) {
  for (const field of DATA_FIELDS) FIELD_INPUT(field).value = cardValue(p, field);
}

// {field: message} of what the page itself can tell is wrong.
export function checkData(values) {
  const errors = {};
  for (const [field, max] of Object.entries(MAX_LENGTH)) {
    if (values[field].length > max) errors[field] = `не длиннее ${max} знаков`;
  }
  if (!values.citizenship.trim()) errors.citizenship = "укажите гражданство";
  if (values.snils && !/^\d{3}-\d{3}-\d{3} \d{2}$/.test(values.snils)) {
    errors.snils = "СНИЛС записывается в виде 000-000-000 00";
  }
  if (values.email && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(values.email)) {
    errors.email = "адрес электронной почты указан неверно";
  }
  return errors;
}

// A 422's detail as {field: Russian message}: the register's problems carry msg_ru; pydantic's are named
// by their type. Anything not tied to a field comes back under "".
export function fieldErrors(detail) {
  const out = {};
  if (!Array.isArray(detail)) return out;
  for (const e of detail) {
    const loc = Array.isArray(e.loc) ? e.loc : [];
    const field = DATA_FIELDS.includes(loc[loc.length - 1]) ? loc[loc.length - 1] : "";
    const text = e.msg_ru || TYPE_RU[e.type] || "значение не принято";
    out[field] = out[field] ? `${out[field]}; ${text}` : text;
  }
  return out;
}

function showFieldErrors(errors) {
  for (const field of DATA_FIELDS) {
    const box = FIELD_ERROR(field);
    const input = FIELD_INPUT(field);
    box.textContent = errors[field] ? capitalizeRu(errors[field]) : "";
    box.hidden = !errors[field];
    if (errors[field]) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }
  const first = DATA_FIELDS.find((f) => errors[f]);
  if (first) FIELD_INPUT(first).focus();
}

function capitalizeRu(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function wireDataForm(id, current) {
  const form = document.getElementById("data-form");
  const result = document.getElementById("data-result");
  const say = (text, kind) => {
    result.textContent = text;
    result.className = kind === "error" ? "error" : "muted";
    result.hidden = !text;
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    say("");
    const values = Object.fromEntries(DATA_FIELDS.map((f) => [f, FIELD_INPUT(f).value.trim()]));
    const errors = checkData(values);
    showFieldErrors(errors);
    if (Object.keys(errors).length) {
      say("Исправьте отмеченные поля.", "error");
      return;
    }
    const changes = {};
    for (const field of DATA_FIELDS) {
      if (values[field] === cardValue(current.card, field)) continue;
      changes[field] = values[field] === "" && OPTIONAL_NULL.has(field) ? null : values[field];
    }
    if (!Object.keys(changes).length) {
      say("Изменений нет.");
      return;
    }
    try {
      const answer = await api(`/registry/persons/${encodeURIComponent(id)}`, { method: "PATCH", json: changes });
      current.card = await render(id);
      fillDataForm(current.card);
      const names = Object.keys(answer.changed).map((f) => FIELD_RU[f]);
      say(names.length ? `Сохранено: ${names.join(", ")}.` : "Изменений нет.");
    } catch (err) {
      if (err.status === 422 && Array.isArray(err.detail)) {
        const byField = fieldErrors(err.detail);
        showFieldErrors(byField);
        say(byField[""] ? capitalizeRu(byField[""]) : "Исправьте отмеченные поля.", "error");
      } else {
        say(err.message, "error");
      }
    }
  });
}

runPage(async () => {
  const id = new URLSearchParams(location.search).get("id");
  wireChanges(id);
  const current = { card: await render(id) };
  fillDataForm(current.card);
  wireDataForm(id, current);
}, { accounts: false });
