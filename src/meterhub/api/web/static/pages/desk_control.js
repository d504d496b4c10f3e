// Control of deadlines: overdue and at-risk requests; escalate the overdue ones now.
import { api, dateTimeLabel, fill, h, runPage, showStatus } from "../cabinet.js";
import { STATES, requestLink } from "../desk.js";

async function load() {
  const rows = await api("/servicedesk/control");
  fill(document.getElementById("control"), ...rows.map((r) => h("tr", { "data-request": r.request_id, class: r.state },
    h("td", {}, requestLink(r.request_id)), h("td", { text: STATES[r.state] }), h("td", { text: r.category }),
    h("td", { text: r.building_id }), h("td", { text: r.executor || "не назначен" }),
    h("td", { text: dateTimeLabel(r.resolution_due) }), h("td", { text: r.escalation_level ? `уровень ${r.escalation_level}` : "—" }))));
  if (!rows.length) showStatus("Просроченных и близких к сроку обращений нет.", "info");
}

runPage(async () => {
  document.getElementById("escalate").addEventListener("click", async () => {
    try {
      const raised = await api("/servicedesk/escalate", { method: "POST" });
      showStatus(raised.length ? `Эскалировано: ${raised.map((r) => `№ ${r.request_id}`).join(", ")}` : "Новых эскалаций нет.", "info");
      await load();
    } catch (err) {
      showStatus(err.message, "error");
    }
  });
  await load();
}, { accounts: false });
