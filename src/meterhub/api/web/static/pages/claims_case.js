// A case: its debtors with shares, the timeline with documents, the next step, court documents uploaded,
// money under the court act and the court costs.
import { api, fill, h, runPage, showStatus } from "../cabinet.js";
import { CLAIMS, kopecks, rub, STATES, today } from "../claims.js";
import { formValues, ruDate } from "../registry.js";

const id = new URLSearchParams(location.search).get("id");
const base = `/claims/cases/${encodeURIComponent(id || "")}`;

async function load() {
  const c = await api(base);
  document.getElementById("page-title").textContent = `Дело ${c.case_id}${c.case_number ? ` (№ ${c.case_number})` : ""}`;
  const facts = [
    ["Состояние", STATES[c.state]], ["Лицевой счёт", h("a", { href: `${CLAIMS}/debtor?account=${encodeURIComponent(c.account_no)}`, text: c.account_no })],
    ["Суд", c.court_name], ["Период", `${c.period_from} — ${c.period_to}`], ["Долг на дату", ruDate(c.as_of)],
    ["Основной долг, ₽", rub(c.principal_kopecks)], ["Пени, ₽", rub(c.penalty_kopecks)],
    ["Госпошлина, ₽", `${rub(c.state_fee_kopecks)} (${c.fee_schedule})`], ["Присуждено, ₽", rub(c.awarded_kopecks) || "—"],
  ];
  fill(document.getElementById("summary"), ...facts.flatMap(([k, v]) => [h("dt", { text: k }), h("dd", {}, v)]));
  fill(document.getElementById("debtors"), ...c.debtors.map((d) => h("tr", {},
    h("td", { text: String(d.debtor_no) }), h("td", { text: d.full_name + (d.birth_date ? `, ${ruDate(d.birth_date)} г. р.` : "") }),
    h("td", { text: d.share }), h("td", { text: d.representative }), h("td", { text: rub(d.principal_kopecks) }),
    h("td", { text: rub(d.penalty_kopecks) }), h("td", { text: rub(d.state_fee_kopecks) }))));
  fill(document.getElementById("timeline"), ...c.timeline.map((s) => h("li", {},
    `${ruDate(s.happened_on)} — ${s.title} (${s.actor})${s.note ? `: ${s.note}` : ""} `,
    ...s.documents.map((d) => h("a", { href: `/api/v1${base}/documents/${d.document_id}`, text: `${d.file_name} ` })))));
  fill(document.getElementById("next-state"), ...c.next_states.map((s) => h("option", { value: s.state, text: s.title })));
  document.getElementById("step").hidden = !c.next_states.length;
  fill(document.getElementById("receipts"), ...c.receipts.map((r) => h("tr", {},
    h("td", { text: ruDate(r.received_on) }), h("td", { text: rub(r.amount_kopecks) }), h("td", { text: rub(r.to_debts_kopecks) }),
    h("td", { text: rub(r.to_costs_kopecks) }), h("td", { text: r.reference }))));
  fill(document.getElementById("costs"), ...c.costs.map((k) => h("tr", {},
    h("td", { text: k.kind === "state_fee" ? "госпошлина" : k.kind }), h("td", { text: rub(k.paid_kopecks) }),
    h("td", { text: ruDate(k.paid_on) }), h("td", { text: rub(k.awarded_kopecks) }), h("td", { text: k.note }))));
}

function onSubmit(formId, action) {
  const form = document.getElementById(formId);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await action(form);
      form.reset();
      for (const input of form.querySelectorAll("input[type=date]")) input.value = today();
      await load();
      showStatus("Записано");
    } catch (err) {
      showStatus(err.message, "error");
    }
  });
  for (const input of form.querySelectorAll("input[type=date]")) input.value = today();
}

onSubmit("step", (form) => api(`${base}/steps`, { method: "POST", json: formValues(form) }));
onSubmit("upload", (form) => api(`${base}/documents`, { method: "POST", form: new FormData(form) }));
onSubmit("writ", (form) => {
  const v = formValues(form);
  return api(`${base}/writ-receipts`, { method: "POST", json: { amount_kopecks: kopecks(v.amount), received_on: v.received_on, reference: v.reference } });
});
runPage(load, { accounts: false });
