// Receipts (квитанции, ЕПД): list by period with PDF download, the debt receipt, payment history.
import { api, dateLabel, fill, h, noAccountMessage, periodLabel, runPage } from "../cabinet.js";
import { formatRub } from "../decimal.js";

const rub = (m) => (m === null || m === undefined ? "—" : formatRub(String(typeof m === "object" ? m.rubles : m)));

runPage(async ({ current }) => {
  if (!current) return noAccountMessage();
  const base = `/accounts/${encodeURIComponent(current.account_no)}`;
  document.getElementById("debt-receipt").href = `/api/v1${base}/receipts/debt.pdf`;
  document.getElementById("debt-receipt").setAttribute("download", `dolg-${current.account_no}.pdf`);

  const receipts = await api(`${base}/receipts`);
  const tbody = document.querySelector("#receipts-table tbody");
  fill(tbody, ...receipts.map((r) => {
    const url = r.pdf_url;
    return h("tr", { "data-period": r.period, "data-status": r.status },
      h("td", {}, periodLabel(r.period),
        r.due_date ? h("div", { class: "muted small due-date", text: `оплатить до ${dateLabel(r.due_date)}` }) : null,
        r.status === "draft" ? h("div", { class: "muted small", text: "предварительная: период не закрыт" }) : null),
      h("td", { class: "num", text: rub(r.charged) }),
      h("td", { class: "num", text: rub(r.to_pay) }),
      h("td", { class: `payment-state ${r.payment_state || ""}`, "data-payment-state": r.payment_state || "" },
        r.payment_state_name || "",
        r.payment_state === "partly_paid" ? h("div", { class: "muted small", text: `оплачено ${rub(r.paid_after)}` }) : null),
      h("td", {}, h("a", { href: url, download: `kvitanciya-${current.account_no}-${r.period}.pdf`, class: "receipt-pdf", text: "PDF" })));
  }));
  document.getElementById("receipts-empty").hidden = receipts.length > 0;

  try {
    const payments = await api(`${base}/payments`);
    fill(document.querySelector("#payments-table tbody"), ...payments.map((p) => h("tr", {},
      h("td", { text: dateLabel(p.paid_on) }),
      h("td", { class: "num", text: rub(p.amount) }),
      h("td", { "data-source": p.source }, p.source_name || p.source, p.purpose ? h("div", { class: "muted small", text: p.purpose }) : null))));
    document.getElementById("payments-empty").hidden = payments.length > 0;
  } catch (err) {
    document.getElementById("payments-empty").textContent = `Не удалось загрузить платежи: ${err.message}`;
    document.getElementById("payments-empty").hidden = false;
  }
});
