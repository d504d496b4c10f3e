// The registration wizard: where and when → the person (found or new) → documents and basis → check.
import { api, fill, h, runPage, showStatus } from "../cabinet.js";
import { KINDS, REGISTRY, formValues, printUrl, ruDate } from "../registry.js";

const STEPS = 4;
let step = 1;
let chosen = null; // an existing person {person_id, full_name, birth_date}

function show(n) {
  step = n;
  for (const fs of document.querySelectorAll("#wizard fieldset")) fs.hidden = Number(fs.dataset.step) !== n;
  for (const li of document.querySelectorAll("#wizard-steps li")) {
    if (Number(li.dataset.step) === n) li.setAttribute("aria-current", "step");
    else li.removeAttribute("aria-current");
  }
  document.getElementById("w-back").hidden = n === 1;
  document.getElementById("w-next").hidden = n === STEPS;
  document.getElementById("w-submit").hidden = n !== STEPS;
  document.getElementById("w-doc").hidden = Boolean(chosen);
  document.getElementById("w-doc-note").hidden = !chosen;
}

function problem(v) {
  if (step === 1) {
    if (!v.building_id || !v.premise_no) return "Укажите дом и квартиру.";
    if (!v.date) return "Укажите дату регистрации.";
    if (v.kind === "stay" && !v.end_date) return "Для регистрации по месту пребывания укажите срок.";
    if (v.end_date && v.end_date <= v.date) return "Срок должен быть позже даты регистрации.";
  }
  if (step === 2 && !chosen && (!v.last_name || !v.first_name)) return "Выберите гражданина из картотеки или укажите фамилию и имя нового.";
  if (step === 3 && !chosen && v.series && !v.number) return "Укажите номер документа.";
  return "";
}

function payload(v) {
  const body = {
    building_id: v.building_id, premise_no: v.premise_no, kind: v.kind, date: v.date,
    end_date: v.end_date || null, moved_from: v.moved_from || "", relation_to_head: v.relation_to_head || "",
    basis: { type: v.basis_type || "", number: v.basis_number || "", date: v.basis_date || null },
  };
  if (chosen) body.person_id = chosen.person_id;
  else {
    body.person = {
      last_name: v.last_name, first_name: v.first_name, patronymic: v.patronymic || "", birth_date: v.birth_date || null,
      birth_place: v.birth_place || "", sex: v.sex || null, citizenship: v.citizenship || "Российская Федерация",
      phone: v.phone || "",
    };
    if (v.number) {
      body.person.document = {
        doc_type: v.doc_type, series: v.series || "", number: v.number, issued_by: v.issued_by || "",
        issued_on: v.issued_on || null, subdivision_code: v.subdivision_code || "",
      };
    }
  }
  return body;
}

function summary(v) {
  const who = chosen ? `${chosen.full_name} (из картотеки)` : [v.last_name, v.first_name, v.patronymic].filter(Boolean).join(" ");
  const rows = [
    ["Адрес", `дом ${v.building_id}, кв. ${v.premise_no}`],
    ["Вид регистрации", KINDS[v.kind]],
    ["Дата регистрации", ruDate(v.date)],
    ["Срок до", ruDate(v.end_date)],
    ["Гражданин", who],
    ["Дата рождения", chosen ? ruDate(chosen.birth_date) : ruDate(v.birth_date)],
    ["Документ", chosen ? "из карточки" : [v.series, v.number].filter(Boolean).join(" № ")],
    ["Откуда прибыл", v.moved_from || ""],
    ["Основание", [v.basis_type, v.basis_number].filter(Boolean).join(" № ")],
  ];
  fill(document.getElementById("w-summary"), ...rows.flatMap(([k, val]) => [h("dt", { text: k }), h("dd", { text: val || "—" })]));
}

runPage(async () => {
  const form = document.getElementById("wizard");
  const error = document.getElementById("wizard-error");
  const params = new URLSearchParams(location.search);
  if (params.get("building_id")) document.getElementById("w-building").value = params.get("building_id");
  if (params.get("premise_no")) document.getElementById("w-premise").value = params.get("premise_no");
  show(1);
  document.getElementById("w-next").addEventListener("click", () => {
    const v = formValues(form);
    const p = problem(v);
    error.textContent = p;
    error.hidden = !p;
    if (p) return;
    if (step + 1 === STEPS) summary(v);
    show(step + 1);
  });
  document.getElementById("w-back").addEventListener("click", () => show(step - 1));
  document.getElementById("w-find-button").addEventListener("click", async () => {
    const q = document.getElementById("w-find").value.trim();
    if (q.length < 2) return;
    const found = await api(`/registry/persons?${new URLSearchParams({ q })}`);
    fill(document.getElementById("w-found"), ...(found.length ? found.map((p) =>
      h("li", {}, h("button", { type: "button", class: "link-button", text: `${p.full_name}${p.birth_date ? `, ${ruDate(p.birth_date)}` : ""}`,
        onclick: () => {
          chosen = p;
          const note = document.getElementById("w-chosen");
          note.textContent = `Выбран(а): ${p.full_name}`;
          note.hidden = false;
          document.getElementById("w-new").hidden = true;
        } }))) : [h("li", { class: "muted", text: "Не найдено: внесите нового гражданина ниже." })]));
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const v = formValues(form);
    const submit = document.getElementById("w-submit");
    submit.disabled = true;
    try {
      const made = await api("/registry/arrivals", { method: "POST", json: payload(v) });
      form.hidden = true;
      document.getElementById("wizard-steps").hidden = true;
      document.getElementById("w-done").hidden = false;
      document.getElementById("w-done-text").textContent = `Запись № ${made.event_id}: ${KINDS[v.kind]} с ${ruDate(v.date)}, дом ${v.building_id}, кв. ${v.premise_no}.`;
      document.getElementById("w-print6").href = printUrl({ kind: "form6", arrival_id: made.event_id });
      document.getElementById("w-print9").href = printUrl({ kind: "form9", arrival_id: made.event_id });
      document.getElementById("w-person").href = `${REGISTRY}/person?id=${made.person_id}`;
      showStatus("Гражданин зарегистрирован.", "ok");
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  });
}, { accounts: false });
