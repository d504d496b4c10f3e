// Receipts (квитанции, ЕПД): list by period with PDF download, the debt receipt, payment history.
import { api, dateLabel, h, noAccountMessage, periodLabel, runPage } from "../cabinet.js";
import { formatRub } from "../decimal.js";

const rub = (m) => (m === null || m === undefined ? "—" : formatRub(String(typeof m === "object" ? m.rubles : m)));

runPage(async ({ current }) => {
  if (!current) return noAccountMessage();
  const base = `/accounts/${encodeURIComponent(current.account_no)}`;
  document.getElementById("debt-receipt").href = `/api/v1${base}/receipts/debt.pdf`;
  document.getElementById("debt-receipt").setAttribute("download", `dolg-${current.account_no}.pdf`);

  const data = await api(`${base}/receipts`);
  const receipts = Array.isArray(data) ? data : data.receipts || data.items || [];
  const tbody = document.querySelector("#receipts-table tbody");
  tbody.replaceChildren(...receipts.map((r) => {
    const url = r.pdf_url || `/api/v1${base}/receipts/${r.period}.pdf`;
    return h("tr", { "data-period": r.period },
      h("td", { text: periodLabel(r.period) }),
      h("td", { class: "num", text: rub(r.total ?? r.amount_due ?? r.to_pay) }),
      h("td", { text: r.due_date ? dateLabel(r.due_date) : "—" }),
      h("td", {}, h("a", { href: url, download: `kvitanciya-${current.account_no}-${r.period}.pdf`, class: "receipt-pdf", text: "PDF" })));
  }));
  document.getElementById("receipts-empty").hidden = receipts.length > 0;

  try {
    const pay = await api(`${base}/payments`);
    const payments = Array.isArray(pay) ? pay : pay.payments || pay.items || [];
    document.querySelector("#payments-table tbody").replaceChildren(...payments.map((p) => h("tr", {},
      h("td", { text: dateLabel(p.paid_on || p.date || p.paid_at) }),
      h("td", { class: "num", text: rub(p.amount) }),
      h("td", { text: p.source_name || p.agent || p.source || "" }))));
    document.getElementById("payments-empty").hidden = payments.length > 0;
  } catch (err) {
    document.getElementById("payments-empty").textContent = `Не удалось загрузить платежи: ${err.message}`;
    document.getElementById("payments-empty").hidden = false;
  }
});
