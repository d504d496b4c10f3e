import { api, capitalize, dateLabel, fill, h, periodLabel, PREFIX, runPage, SERVICE_NAMES } from "../cabinet.js";
import { compareDecimals, formatDecimal, formatRub, subtractDecimals } from "../decimal.js";

const acc = (no) => `/accounts/${encodeURIComponent(no)}`;

function wireLinkForm(form) {
  const error = form.querySelector(".error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const account_no = form.account_no.value.trim();
    const code = form.code.value.trim();
    try {
      await api("/me/accounts", { method: "POST", json: { account_no, code } });
      localStorage.setItem("mh_account", account_no);
      location.assign(`${PREFIX}/?account=${encodeURIComponent(account_no)}`);
    } catch (err) {
      // the API says which: wrong, «код уже использован», revoked by the management company, too many tries
      error.textContent = err.message;
      error.hidden = false;
    }
  });
}

const rubles = (m) => (m === null || m === undefined ? null : String(typeof m === "object" ? m.rubles : m));
const ZONE_RU = { single: "", day: "день", night: "ночь", peak: "пик", semi_peak: "полупик" };

// Balance: positive = the resident owes (задолженность), negative = overpaid (переплата, аванс).
function renderBalance(details) {
  const bal = details.balance;
  const el = document.getElementById("balance");
  const note = document.getElementById("balance-note");
  const total = bal ? rubles(bal.total) : null;
  if (total === null) {
    el.textContent = "—";
    note.textContent = "Начислений ещё не было";
    return;
  }
  const sign = compareDecimals(total, "0");
  el.textContent = formatRub(total.replace(/^-/, ""));
  el.classList.toggle("debt", sign > 0);
  el.classList.toggle("credit", sign < 0);
  note.textContent = (sign > 0 ? "К оплате" : sign < 0 ? "Переплата — будет учтена в следующей квитанции" : "Задолженности нет") +
    (bal.period ? ` (на конец периода «${periodLabel(bal.period).toLowerCase()}»)` : "");
  const last = details.last_period;
  if (last && last.due_date && sign > 0) {
    fill(document.getElementById("due-date"), "Оплатить до ", h("strong", { text: dateLabel(last.due_date) }));
  }
  renderBreakdown(bal, last);
  const services = document.getElementById("balance-services");
  for (const s of bal.services || []) {
    const amount = rubles(s.closing);
    if (amount === null) continue;
    services.append(h("dt", { text: SERVICE_NAMES[s.service] || s.service }), h("dd", { text: formatRub(amount) }));
  }
}

// How the amount to pay came about: opening debt + charged + recalculations + penalties − paid = to pay.
function renderBreakdown(bal, last) {
  const list = document.getElementById("balance-breakdown");
  if (!list || bal.opening === undefined) return;
  document.getElementById("breakdown-period").textContent = periodLabel(bal.period).toLowerCase();
  const nonZero = (m) => compareDecimals(rubles(m), "0") !== 0;
  const rows = [
    ["opening", "Долг на начало месяца", bal.opening, true],
    ["charged", "Начислено за месяц", bal.charged, true],
    ["recalculated", "Перерасчёты", bal.recalculated, nonZero(bal.recalculated)],
    ["penalties", "Пени за просрочку оплаты", bal.penalties, nonZero(bal.penalties)],
    ["paid", "Оплачено в течение месяца", bal.paid, true],
  ];
  const items = [];
  for (const [key, label, amount, show] of rows) {
    if (!show) continue;
    const value = rubles(amount);
    const text = key === "paid" && nonZero(amount) ? `− ${formatRub(value)}` : formatRub(value);
    items.push(h("dt", { text: label }), h("dd", { "data-part": key, class: "num", text }));
  }
  const total = rubles(bal.total);
  const due = last && last.due_date ? ` до ${dateLabel(last.due_date)}` : "";
  items.push(h("dt", { class: "total", text: compareDecimals(total, "0") > 0 ? `К оплате${due}` : "Итого" }),
    h("dd", { "data-part": "total", class: "num total", text: formatRub(total.replace(/^-/, "")) }));
  fill(list, ...items);
  document.getElementById("breakdown-card").hidden = false;
}

function renderReceipt(details) {
  const r = details.last_receipt;
  const box = document.getElementById("last-receipt");
  if (!r) return;
  const url = `/api/v1${acc(details.account_no)}/receipts/${r.period}.pdf`;
  fill(box, 
    h("p", {}, h("strong", { text: periodLabel(r.period) }), r.document_id ? h("span", { class: "muted", text: ` · № ${r.document_id}` }) : null),
    r.to_pay ? h("p", { class: "big-number", text: formatRub(rubles(r.to_pay)) }) : null,
    details.last_period && details.last_period.period === r.period && details.last_period.due_date
      ? h("p", { text: `Оплатить до ${dateLabel(details.last_period.due_date)}` }) : null,
    h("a", { class: "button primary", href: url, download: `kvitanciya-${details.account_no}-${r.period}.pdf`, text: "Скачать PDF" }),
    " ",
    h("a", { href: `${PREFIX}/receipts`, text: "Все квитанции" }),
  );
}

function renderDetails(details) {
  const dl = document.getElementById("account-details");
  const people = (details.registered ?? 0) + (details.temporary ?? 0);
  const rows = [
    ["Лицевой счёт", details.account_no],
    ["Адрес", details.address],
    ["Помещение", details.premise_no ? `кв. ${details.premise_no}` : null],
    ["Площадь", details.area_m2 ? `${formatDecimal(details.area_m2, { maxFrac: 2 })} м²` : null],
    ["Собственник", details.owner_name],
    ["Проживает", details.registered !== undefined ? `${people} чел.` : null],
    ["Услуги", (details.services || []).map((s) => s.name_ru || SERVICE_NAMES[s.service] || s.service).join(", ")],
  ];
  for (const [k, v] of rows) {
    if (v === null || v === undefined || v === "") continue;
    dl.append(h("dt", { text: k }), h("dd", { text: String(v) }));
  }
}

// The itemised charges of the latest period: each line explains itself (volume × tariff = amount).
async function renderCharges(details) {
  const last = details.last_period;
  if (!last) return;
  const data = await api(`${acc(details.account_no)}/charges?period=${encodeURIComponent(last.period)}`);
  const title = document.getElementById("charges-title");
  title.textContent = `Начисления за ${periodLabel(last.period).toLowerCase()}${last.status === "draft" ? " (предварительно)" : ""}`;
  const tbody = document.querySelector("#charges-table tbody");
  fill(tbody, 
    ...data.lines.map((l) => h("tr", { title: l.explanation },
      h("td", {}, `${capitalize(l.service_name)}${ZONE_RU[l.zone] ? ` (${ZONE_RU[l.zone]})` : ""}${l.kind === "common_property" ? ", ОДН" : ""}`,
        l.explanation ? h("details", { class: "explain" }, h("summary", { text: "как рассчитано" }), h("div", { class: "muted small", text: l.explanation })) : null),
      h("td", { class: "num", text: formatRub(rubles(l.amount)) }))),
    ...(data.recalculations || []).map((r) => h("tr", {},
      h("td", {}, `Перерасчёт за ${periodLabel(r.corrects_period).toLowerCase()}: ${SERVICE_NAMES[r.service] || r.service}`, h("div", { class: "muted small", text: r.reason_ru || r.reason })),
      h("td", { class: "num", text: formatRub(rubles(r.amount)) }))),
  );
  fill(document.querySelector("#charges-table tfoot"), h("tr", {}, h("th", { text: "Итого" }), h("th", { class: "num", text: formatRub(rubles(data.total)) })));
  document.getElementById("charges-card").hidden = false;
}

// Paying: the receipt's ГОСТ QR code on screen and the management company's payment page if configured.
async function renderPayment(details) {
  if (!details.last_receipt) return;
  let pay;
  try {
    pay = await api(`${acc(details.account_no)}/payment`);
  } catch {
    return; // no receipt to pay yet
  }
  if (compareDecimals(rubles(pay.to_pay), "0") <= 0) return;
  document.getElementById("pay-amount").textContent = formatRub(rubles(pay.to_pay));
  document.getElementById("pay-due").textContent =
    `по квитанции за ${periodLabel(pay.period).toLowerCase()}${pay.due_date ? `, оплатить до ${dateLabel(pay.due_date)}` : ""}`;
  document.getElementById("pay-qr").src = pay.qr_svg_url;
  // what was paid since the receipt was issued (billing puts it to this receipt's amount first)
  try {
    const receipts = await api(`${acc(details.account_no)}/receipts`);
    const r = receipts.find((x) => x.period === pay.period);
    if (r && compareDecimals(rubles(r.paid_after), "0") > 0) {
      const left = subtractDecimals(rubles(pay.to_pay), rubles(r.paid_after));
      const note = document.getElementById("pay-paid");
      note.dataset.state = r.payment_state;
      note.textContent = compareDecimals(left, "0") > 0
        ? `Уже оплачено ${formatRub(rubles(r.paid_after))} — осталось ${formatRub(left)}. Сумму можно изменить в приложении банка.`
        : `Квитанция оплачена (${formatRub(rubles(r.paid_after))}).`;
      note.hidden = false;
    }
  } catch {
    /* the state of payment is extra information */
  }
  const link = document.getElementById("pay-link");
  if (pay.payment_url) {
    link.href = pay.payment_url;
    link.hidden = false;
  }
  document.getElementById("pay-card").hidden = false;
}

runPage(async ({ current }) => {
  wireLinkForm(document.getElementById("link-form"));
  wireLinkForm(document.getElementById("link-form-more"));
  if (!current) {
    document.getElementById("no-accounts").hidden = false;
    return;
  }
  const details = await api(acc(current.account_no));
  details.account_no = details.account_no || current.account_no;
  renderBalance(details);
  renderReceipt(details);
  renderDetails(details);
  document.getElementById("overview").hidden = false;
  await Promise.all([renderCharges(details), renderPayment(details)]);
});
