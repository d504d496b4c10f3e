// Debtors to claim and the batch preparation of court-order applications.
import { api, fill, h, runPage, showStatus } from "../cabinet.js";
import { CLAIMS, kopecks, rub, today } from "../claims.js";
import { formValues } from "../registry.js";

const form = document.getElementById("filter");
form.elements.as_of.value = today();

async function load() {
  const v = formValues(form);
  const params = new URLSearchParams({ as_of: v.as_of, min_months: v.min_months || "1" });
  if (v.building_id) params.set("building_id", v.building_id);
  if (v.min_amount) params.set("min_amount_kopecks", String(Math.max(1, kopecks(v.min_amount))));
  const debtors = await api(`/claims/debtors?${params}`);
  fill(document.getElementById("debtors"), ...debtors.map((d) => h("tr", {},
    h("td", {}, h("input", { type: "checkbox", value: d.account_no, "aria-label": d.account_no })),
    h("td", {}, h("a", { href: `${CLAIMS}/debtor?account=${encodeURIComponent(d.account_no)}&as_of=${v.as_of}`, text: d.account_no })),
    h("td", { text: `дом ${d.building_id}, кв. ${d.premise_no}` }), h("td", { text: d.owner_name }),
    h("td", { text: String(d.months) }), h("td", { text: d.oldest }), h("td", { text: rub(d.amount_kopecks) }),
    h("td", { text: rub(d.penalty_kopecks) }))));
  showStatus(`Должников: ${debtors.length}`);
}

async function prepare() {
  const accounts = [...document.querySelectorAll("#debtors input:checked")].map((c) => c.value);
  if (!accounts.length) return showStatus("Отметьте должников", "error");
  const body = { accounts, as_of: form.elements.as_of.value, include_time_barred: document.getElementById("time-barred").checked };
  const results = await api("/claims/cases", { method: "POST", json: body });
  fill(document.getElementById("results"), ...results.map((r) => h("li", {}, r.case_id
    ? h("a", { href: `${CLAIMS}/case?id=${r.case_id}`, text: `${r.account_no}: дело ${r.case_id} — заявление подготовлено` })
    : `${r.account_no}: не подготовлено — ${r.error}`)));
  await load();
}

form.addEventListener("submit", (e) => { e.preventDefault(); load().catch((err) => showStatus(err.message, "error")); });
document.getElementById("all").addEventListener("change", (e) => {
  for (const c of document.querySelectorAll("#debtors input[type=checkbox]")) c.checked = e.target.checked;
});
document.getElementById("prepare").addEventListener("click", () => prepare().catch((err) => showStatus(err.message, "error")));
runPage(load, { accounts: false });
