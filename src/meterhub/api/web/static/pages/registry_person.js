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

runPage(async () => {
  const id = new URLSearchParams(location.search).get("id");
  wireChanges(id);
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
}, { accounts: false });
