// The cases, by state and building.
import { api, fill, h, runPage } from "../cabinet.js";
import { CLAIMS, STATES, rub } from "../claims.js";
import { formValues } from "../registry.js";

const form = document.getElementById("filter");
const select = document.getElementById("state");
for (const [value, label] of Object.entries(STATES)) select.append(h("option", { value, text: label }));

async function load() {
  const params = new URLSearchParams(formValues(form));
  const cases = await api(`/claims/cases?${params}`);
  fill(document.getElementById("cases"), ...cases.map((c) => h("tr", {},
    h("td", {}, h("a", { href: `${CLAIMS}/case?id=${c.case_id}`, text: String(c.case_id) })),
    h("td", {}, h("a", { href: `${CLAIMS}/debtor?account=${encodeURIComponent(c.account_no)}`, text: c.account_no })),
    h("td", { text: c.building_id }), h("td", { text: STATES[c.state] || c.state }), h("td", { text: c.case_number }),
    h("td", { text: rub(c.principal_kopecks + c.penalty_kopecks) }), h("td", { text: rub(c.awarded_kopecks) }))));
}

form.addEventListener("submit", (e) => { e.preventDefault(); load(); });
runPage(load, { accounts: false });
