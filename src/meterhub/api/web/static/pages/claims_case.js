// A case: its debtors with shares, the timeline with documents, the next step, court documents uploaded,
// money under the court act and the court costs.
import { api, fill, h, runPage, showStatus } from "../cabinet.js";
import { CLAIMS, kopecks, rub, STATES, today } from "../claims.js";
import { formValues, ruDate } from "../registry.js";

const id = new URLSearchParams(location.search).get("id");
const base = `/claims/cases/${encodeURIComponent(id || "")}`;
const COURT_ACTS = new Set(["order_issued", "decision"]);
let current = null; // the case as last loaded

// 176497 → "1764.97": an amount the clerk can edit and kopecks() reads back exactly.
function plain(k) {
  return `${Math.floor(k / 100)}.${String(k % 100).padStart(2, "0")}`;
}

function claimed(d) {
  return d.principal_kopecks + d.penalty_kopecks;
}

// The entry of what the court awarded: a row per debtor prefilled with what was claimed from him (by
// share); in the solidary mode the ticked debtors owe one amount together, the others keep their rows.
function renderAwardEntry(c) {
  fill(document.getElementById("award-rows"), ...c.debtors.map((d) => h("tr", { dataset: { debtor: d.debtor_no } },
    h("td", { text: `${d.debtor_no}. ${d.full_name}` }),
    h("td", { class: "solidary-col" }, h("input", { type: "checkbox", class: "award-joint", "aria-label": `солидарно: ${d.full_name}` })),
    h("td", {}, h("input", { class: "award-amount", inputmode: "decimal", value: plain(claimed(d)), "aria-label": `присуждено: ${d.full_name}` })),
    h("td", {}, h("input", { class: "award-costs", inputmode: "decimal", value: plain(d.state_fee_kopecks), "aria-label": `судебные расходы: ${d.full_name}` })))));
  // joint owners of one joint ownership in the register are proposed solidarily (the first such group)
  const groups = {};
  for (const d of c.debtors) if (d.joint_group) (groups[d.joint_group] ||= []).push(d.debtor_no);
  const joint = Object.values(groups).find((g) => g.length > 1) || [];
  document.getElementById(joint.length ? "liability-solidary" : "liability-share").checked = true;
  for (const r of awardRows()) r.joint.checked = joint.includes(r.debtor);
  updateAwardEntry();
}

function awardRows() {
  return [...document.querySelectorAll("#award-rows tr")].map((tr) => ({
    debtor: Number(tr.dataset.debtor),
    joint: tr.querySelector(".award-joint"),
    amount: tr.querySelector(".award-amount"),
    costs: tr.querySelector(".award-costs"),
  }));
}

function solidaryMode() {
  return document.getElementById("liability-solidary").checked;
}

// Show the parts of the entry the mode needs; the solidary amounts follow the ticked debtors' claims.
function updateAwardEntry(recompute = true) {
  const state = document.getElementById("next-state").value;
  document.getElementById("award-entry").hidden = !COURT_ACTS.has(state);
  const solidary = solidaryMode();
  for (const col of document.querySelectorAll(".solidary-col")) col.hidden = !solidary;
  document.getElementById("solidary-amounts").hidden = !solidary;
  const rows = awardRows();
  for (const r of rows) {
    const joint = solidary && r.joint.checked;
    r.amount.disabled = joint;
    r.costs.disabled = joint;
  }
  if (solidary && recompute && current) {
    const ticked = current.debtors.filter((d) => rows.find((r) => r.debtor === d.debtor_no)?.joint.checked);
    document.getElementById("solidary-amount").value = plain(ticked.reduce((s, d) => s + claimed(d), 0));
    document.getElementById("solidary-costs").value = plain(ticked.reduce((s, d) => s + d.state_fee_kopecks, 0));
  }
}

// The awards the entry says, checked as the register of cases will check them (in Russian).
function awardsOfEntry() {
  const amount = (input, who) => {
    const k = kopecks(input.value || "0");
    if (k <= 0) throw new Error(`${who}: присуждённая сумма должна быть больше нуля`);
    return k;
  };
  const names = Object.fromEntries(current.debtors.map((d) => [d.debtor_no, d.full_name]));
  const rows = awardRows();
  const awards = [];
  const joint = solidaryMode() ? rows.filter((r) => r.joint.checked) : [];
  if (solidaryMode()) {
    if (joint.length < 2) throw new Error("Для солидарного взыскания отметьте не меньше двух должников");
    awards.push({
      liability: "solidary",
      debtors: joint.map((r) => r.debtor),
      amount_kopecks: amount(document.getElementById("solidary-amount"), "Солидарно"),
      costs_kopecks: kopecks(document.getElementById("solidary-costs").value || "0"),
    });
  }
  for (const r of rows.filter((x) => !joint.includes(x))) {
    awards.push({
      liability: "share",
      debtors: [r.debtor],
      amount_kopecks: amount(r.amount, names[r.debtor]),
      costs_kopecks: kopecks(r.costs.value || "0"),
    });
  }
  return awards;
}

function renderCourtAct(c) {
  const box = document.getElementById("court-act");
  box.hidden = !c.court_act || !c.court_act.awards.length;
  if (box.hidden) return;
  const act = c.court_act;
  document.getElementById("court-act-title").textContent = `${STATES[act.state]} ${ruDate(act.happened_on)}`;
  const byDebtor = Object.fromEntries(act.awards.flatMap((a) => a.debtors.map((d) => [d.debtor_no, a])));
  fill(document.getElementById("court-act-rows"), ...act.defendants.map((d) => {
    const award = byDebtor[d.debtor_no];
    const how = d.liability === "solidary" ? `солидарно с ${d.jointly_with.join(", ")}` : "по доле";
    return h("tr", {}, h("td", { text: d.full_name }), h("td", { text: how }),
      h("td", { text: rub(d.amount_kopecks) }), h("td", { text: rub(award.costs_kopecks) }));
  }));
}

async function load() {
  const c = await api(base);
  current = c;
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
  renderCourtAct(c);
  renderAwardEntry(c);
  const debtorName = Object.fromEntries(c.debtors.map((d) => [d.debtor_no, `${d.debtor_no}. ${d.full_name}`]));
  fill(document.getElementById("receipts"), ...c.receipts.map((r) => h("tr", {},
    h("td", { text: ruDate(r.received_on) }), h("td", { text: r.debtor_no ? debtorName[r.debtor_no] : "—" }),
    h("td", { text: rub(r.amount_kopecks) }), h("td", { text: rub(r.to_debts_kopecks) }),
    h("td", { text: rub(r.to_costs_kopecks) }), h("td", { text: r.reference }))));
  // money under the act comes from one debtor and counts against his award
  fill(document.getElementById("writ-debtor"), ...c.debtors.map((d) => h("option", { value: String(d.debtor_no), text: debtorName[d.debtor_no] })));
  // поворот исполнения: only once the court order was cancelled
  document.getElementById("reversal-card").hidden = !c.timeline.some((s) => s.state === "order_cancelled");
  fill(document.getElementById("reversals"), ...c.reversals.map((r) => h("tr", {},
    h("td", { text: ruDate(r.ruled_on) }), h("td", { text: r.ruling_number || "б/н" }), h("td", { text: debtorName[r.debtor_no] }),
    h("td", { text: rub(r.amount_kopecks) }), h("td", { text: rub(r.from_debts_kopecks) }),
    h("td", { text: rub(r.from_costs_kopecks) }), h("td", { text: ruDate(r.returned_on) }))));
  fill(document.getElementById("reversal-debtor"), ...c.debtors.map((d) => h("option", { value: String(d.debtor_no), text: debtorName[d.debtor_no] })));
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

onSubmit("step", (form) => {
  const values = formValues(form);
  delete values.liability;
  if (COURT_ACTS.has(values.state)) values.awards = awardsOfEntry();
  return api(`${base}/steps`, { method: "POST", json: values });
});
document.getElementById("next-state").addEventListener("change", () => updateAwardEntry());
for (const radio of document.querySelectorAll("input[name=liability]")) radio.addEventListener("change", () => updateAwardEntry());
document.getElementById("award-rows").addEventListener("change", (e) => {
  if (e.target.classList.contains("award-joint")) updateAwardEntry();
});
onSubmit("upload", (form) => api(`${base}/documents`, { method: "POST", form: new FormData(form) }));
onSubmit("writ", (form) => {
  const v = formValues(form);
  return api(`${base}/writ-receipts`, { method: "POST", json: { amount_kopecks: kopecks(v.amount), received_on: v.received_on, reference: v.reference, debtor_no: Number(v.debtor_no) } });
});
onSubmit("reversal", (form) => {
  const v = formValues(form);
  return api(`${base}/reversals`, { method: "POST", json: {
    debtor_no: Number(v.debtor_no), amount_kopecks: kopecks(v.amount), ruled_on: v.ruled_on,
    ruling_number: v.ruling_number || "", returned_on: v.returned_on || null } });
});
runPage(load, { accounts: false });
