// The resident's household: who is registered in the premise (no documents), and ordering a справка.
import { api, dateLabel, fill, h, noAccountMessage, runPage } from "../cabinet.js";

const STATUS = { new: "принят", issued: "готова", refused: "отказано" };

function lastDay(iso) {
  if (!iso) return "";
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - 1);
  return dateLabel(d.toISOString());
}

runPage(async ({ current }) => {
  if (!current) return noAccountMessage();
  const base = `/accounts/${encodeURIComponent(current.account_no)}`;
  const data = await api(`${base}/household`);
  document.getElementById("household-not-kept").hidden = data.kept;
  fill(document.getElementById("household"), ...data.members.map((m) => h("tr", {},
    h("td", { text: m.full_name }), h("td", { text: m.birth_year ?? "" }), h("td", { text: m.kind_name }),
    h("td", { text: dateLabel(m.since) }), h("td", { text: m.until ? lastDay(m.until) : "" }))));
  const list = document.getElementById("orders");
  const showOrders = async () => {
    const orders = await api(`${base}/certificate-orders`);
    fill(list, ...orders.map((o) => h("li", { "data-order": o.order_id },
      `№ ${o.order_id}: ${o.kind_name} — ${STATUS[o.status] || o.status}${o.staff_note ? ` (${o.staff_note})` : ""}`)));
  };
  await showOrders();
  const form = document.getElementById("order-form");
  const error = document.getElementById("order-error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api(`${base}/certificate-orders`, { method: "POST", json: { kind: form.kind.value, comment: form.comment.value } });
      form.reset();
      error.hidden = true;
      await showOrders();
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    }
  });
});
