import { api, dateLabel, h, periodLabel, PREFIX, runPage, SERVICE_NAMES } from "../cabinet.js";
import { compareDecimals, formatRub, kopecksToRubles } from "../decimal.js";

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
      error.textContent = err.status === 404 || err.status === 400 ? "Неверный номер счёта или код." : err.message;
      error.hidden = false;
    }
  });
}

// Balance: positive = the resident owes (задолженность), negative = overpaid (переплата).
function renderBalance(details) {
  const bal = details.balance || {};
  const rub = bal.rubles ?? bal.amount ?? (bal.kopecks !== undefined ? kopecksToRubles(bal.kopecks) : null);
  const el = document.getElementById("balance");
  const note = document.getElementById("balance-note");
  if (rub === null || rub === undefined) {
    el.textContent = "—";
    return;
  }
  const sign = compareDecimals(String(rub), "0");
  const abs = String(rub).replace(/^-/, "");
  el.textContent = formatRub(abs);
  el.classList.toggle("debt", sign > 0);
  el.classList.toggle("credit", sign < 0);
  note.textContent = sign > 0 ? "К оплате (задолженность)" : sign < 0 ? "Переплата — будет учтена в следующей квитанции" : "Задолженности нет";
  const due = details.due_date || bal.due_date;
  if (due) {
    document.getElementById("due-date").replaceChildren("Оплатить до ", h("strong", { text: dateLabel(due) }));
  }
  const services = document.getElementById("balance-services");
  for (const s of bal.services || details.services_balance || []) {
    const amount = s.rubles ?? s.closing_rubles ?? s.amount;
    if (amount === undefined) continue;
    services.append(h("dt", { text: SERVICE_NAMES[s.service] || s.name_ru || s.service }), h("dd", { text: formatRub(String(amount)) }));
  }
}

function renderReceipt(details) {
  const r = details.last_receipt;
  const box = document.getElementById("last-receipt");
  if (!r) return;
  const period = r.period;
  const total = r.total_rubles ?? r.total ?? r.amount_rubles;
  const url = r.pdf_url || `/api/v1${acc(details.account_no)}/receipts/${period}.pdf`;
  box.replaceChildren(
    h("p", {}, h("strong", { text: periodLabel(period) })),
    total !== undefined && total !== null ? h("p", { class: "big-number", text: formatRub(String(total)) }) : null,
    r.due_date ? h("p", { text: `Оплатить до ${dateLabel(r.due_date)}` }) : null,
    h("a", { class: "button", href: url, download: `kvitanciya-${details.account_no}-${period}.pdf`, text: "Скачать PDF" }),
    " ",
    h("a", { href: `${PREFIX}/receipts`, text: "Все квитанции" }),
  );
}

function renderDetails(details) {
  const dl = document.getElementById("account-details");
  const rows = [
    ["Лицевой счёт", details.account_no],
    ["Адрес", details.address],
    ["Помещение", details.premise_no ? `кв. ${details.premise_no}` : null],
    ["Площадь", details.area ? `${String(details.area).replace(".", ",")} м²` : null],
    ["Собственник", details.owner_name],
    ["Проживает", details.residents ?? details.registered],
    ["Услуги", (details.services || []).map((s) => (typeof s === "string" ? SERVICE_NAMES[s] || s : s.name_ru || SERVICE_NAMES[s.service] || s.service)).join(", ")],
  ];
  for (const [k, v] of rows) {
    if (v === null || v === undefined || v === "") continue;
    dl.append(h("dt", { text: k }), h("dd", { text: String(v) }));
  }
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
});
