// Reports: requests by category, channel, building or executor with the share resolved on time.
import { api, fill, h, runPage, showStatus } from "../cabinet.js";
import { CHANNELS } from "../desk.js";

const form = document.getElementById("report");

async function load(event) {
  if (event) event.preventDefault();
  const params = new URLSearchParams({ by: form.by.value });
  if (form.start.value) params.set("start", form.start.value);
  if (form.end.value) params.set("end", form.end.value);
  const rows = await api(`/servicedesk/reports?${params}`);
  fill(document.getElementById("rows"), ...rows.map((r) => h("tr", { "data-key": r.key },
    h("th", { text: form.by.value === "channel" ? CHANNELS[r.key] || r.key : r.key }),
    h("td", { text: r.registered }), h("td", { text: r.open }), h("td", { text: r.resolved }), h("td", { text: r.resolved_on_time }),
    h("td", { text: r.share_on_time ?? "—" }), h("td", { text: r.overdue_open }), h("td", { text: r.average_rating ?? "—" }))));
  showStatus(rows.length ? "" : "За период обращений нет.", "info");
}

runPage(async () => {
  form.addEventListener("submit", (e) => load(e).catch((err) => showStatus(err.message, "error")));
  await load();
}, { accounts: false });
