// A debtor's card: the debt history per period and service, payments, claims and the cases' timelines.
import { api, fill, h, periodLabel, runPage, SERVICE_NAMES } from "../cabinet.js";
import { CLAIMS, KIND_NAMES, STATES, rub, today } from "../claims.js";
import { ruDate } from "../registry.js";

const query = new URLSearchParams(location.search);
const account = query.get("account") || "";
const form = document.getElementById("filter");
form.elements.as_of.value = query.get("as_of") || today();

async function load() {
  const card = await api(`/claims/debtors/${encodeURIComponent(account)}?as_of=${form.elements.as_of.value}`);
  document.getElementById("page-title").textContent = `Карточка должника: ЛС ${card.account_no}`;
  document.getElementById("who").textContent = `${card.owner_name || "собственник не указан"}, ${card.address}, кв. ${card.premise_no}`;
  fill(document.getElementById("debts"), ...card.debts.map((d) => h("tr", d.time_barred ? { class: "muted" } : {},
    h("td", { text: periodLabel(d.period) }), h("td", { text: SERVICE_NAMES[d.service] || d.service }),
    h("td", { text: KIND_NAMES[d.kind] }), h("td", { text: rub(d.amount_kopecks) }), h("td", { text: ruDate(d.due_date) }),
    h("td", { text: ruDate(d.limitation_ends) }), h("td", { text: d.time_barred ? "срок давности истёк" : "" }))));
  fill(document.getElementById("payments"), ...card.payments.map((p) => h("tr", {},
    h("td", { text: ruDate(p.paid_on) }), h("td", { text: rub(p.amount_kopecks) }),
    h("td", { text: p.reversal ? "поворот исполнения: возврат должнику" : p.source === "writ" ? "по исполнительному документу" : p.source }))));
  fill(document.getElementById("reversals"), ...card.reversals.map((r) => h("tr", {},
    h("td", { text: ruDate(r.ruled_on) }), h("td", { text: r.ruling_number || "б/н" }),
    h("td", { text: `${r.full_name} (дело ${r.case_id})` }), h("td", { text: rub(r.amount_kopecks) }),
    h("td", { text: rub(r.from_debts_kopecks) }), h("td", { text: rub(r.from_costs_kopecks) }),
    h("td", { text: ruDate(r.returned_on) }))));
  fill(document.getElementById("letters"), ...card.letters.map((l) => h("li", {
    text: `претензия на ${ruDate(l.as_of)}: ${rub(l.principal_kopecks)} ₽ и пени ${rub(l.penalty_kopecks)} ₽, оплатить до ${ruDate(l.pay_by)}${l.sent_on ? `, отправлена ${ruDate(l.sent_on)} ${l.tracking}` : ", не отправлена"}` })));
  fill(document.getElementById("cases"), ...card.cases.map((c) => h("article", {},
    h("h3", {}, h("a", { href: `${CLAIMS}/case?id=${c.case_id}`, text: `Дело ${c.case_id}${c.case_number ? ` (№ ${c.case_number})` : ""}` }),
      ` — ${STATES[c.state]}`),
    h("p", { text: `предъявлено ${rub(c.principal_kopecks + c.penalty_kopecks)} ₽, госпошлина ${rub(c.state_fee_kopecks)} ₽, присуждено ${rub(c.awarded_kopecks) || "—"}` }),
    h("ol", {}, ...c.timeline.map((s) => h("li", {}, `${ruDate(s.happened_on)} — ${s.title} (${s.actor})${s.note ? `: ${s.note}` : ""} `,
      ...s.documents.map((d) => h("a", { href: `/api/v1/claims/cases/${c.case_id}/documents/${d.document_id}`, text: d.file_name + " " }))))))));
}

form.addEventListener("submit", (e) => { e.preventDefault(); load(); });
runPage(load, { accounts: false });
