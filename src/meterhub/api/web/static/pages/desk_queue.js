// The queue: open requests, the nearest deadline first (a contractor sees its own only).
import { api, dateTimeLabel, fill, h, runPage } from "../cabinet.js";
import { CHANNELS, STATUSES, requestLink } from "../desk.js";

async function load() {
  const state = document.getElementById("state").value;
  const rows = await api(`/servicedesk/queue?${new URLSearchParams({ state })}`);
  const now = Date.now();
  fill(document.getElementById("queue"), ...rows.map((r) => h("tr", {
    "data-request": r.id, class: r.resolution_due_at && Date.parse(r.resolution_due_at) < now && ["new", "in_progress"].includes(r.status) ? "overdue" : "" },
  h("td", {}, requestLink(r.id)), h("td", { text: r.category_name }), h("td", { text: CHANNELS[r.channel] || r.channel }),
  h("td", { text: `${r.address}${r.account_no ? `, ЛС ${r.account_no}` : ""}` }), h("td", { text: r.executor || "—" }),
  h("td", { text: STATUSES[r.status] || r.status }), h("td", { text: r.resolution_due_at ? dateTimeLabel(r.resolution_due_at) : "—" }))));
}

runPage(async () => {
  document.getElementById("state").addEventListener("change", load);
  await load();
}, { accounts: false });
