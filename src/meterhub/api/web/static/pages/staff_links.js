// Staff: the users linked to an account, revoking a link with a reason, revoking the codes, the history.
import { api, dateTimeLabel, fill, h, runPage, showStatus } from "../cabinet.js";

const form = document.getElementById("account-form");
const card = document.getElementById("account-card");
const revokeForm = document.getElementById("revoke-form");
const revokeError = document.getElementById("revoke-error");
const ROLES = { accountant: "бухгалтер", admin: "администратор", resident: "житель", "": "" };
let account = null;
let target = null;

async function loadAccount(no) {
  const details = await api(`/accounts/${encodeURIComponent(no)}`);
  account = details.account_no;
  document.getElementById("account-title").textContent = `Лицевой счёт ${details.account_no}`;
  document.getElementById("account-address").textContent =
    `${details.address}, помещение ${details.premise_no} · собственник ${details.owner_name || "—"}`;
  card.hidden = false;
  const url = new URL(location.href);
  url.searchParams.set("account", account);
  history.replaceState(null, "", url);
  await Promise.all([renderLinks(), renderHistory()]);
}

async function renderLinks() {
  const links = await api(`/accounts/${encodeURIComponent(account)}/links`);
  fill(document.querySelector("#links-table tbody"), ...links.map((l) => h("tr", { "data-username": l.username },
    h("td", { text: l.username }),
    h("td", { text: l.full_name || "—" }),
    h("td", { text: l.linked_by_name }),
    h("td", { text: dateTimeLabel(l.linked_at) }),
    h("td", {}, h("button", { type: "button", class: "revoke", text: "Отключить", onclick: () => askRevoke(l) })))));
  document.getElementById("links-empty").hidden = links.length > 0;
}

async function renderHistory() {
  const events = await api(`/accounts/${encodeURIComponent(account)}/link-history`);
  fill(document.querySelector("#history-table tbody"), ...events.map((e) => h("tr", { "data-action": e.action },
    h("td", { text: dateTimeLabel(e.at) }),
    h("td", { text: e.action_name }),
    h("td", { text: e.username || "—" }),
    h("td", { text: e.actor_role ? `${e.actor_name} (${ROLES[e.actor_role] || e.actor_role})` : e.actor_name }),
    h("td", { class: "reason", text: e.reason || "—" }))));
  document.getElementById("history-empty").hidden = events.length > 0;
}

function askRevoke(link) {
  target = link;
  revokeError.hidden = true;
  document.getElementById("revoke-question").textContent =
    `Отключить ${link.full_name || link.username} (логин ${link.username}) от лицевого счёта ${account}?`;
  revokeForm.reset();
  revokeForm.hidden = false;
  document.getElementById("revoke-reason").focus();
}

revokeForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const reason = revokeForm.reason.value.trim();
  if (!reason) {
    revokeError.textContent = "Укажите причину.";
    revokeError.hidden = false;
    return;
  }
  const button = document.getElementById("revoke-confirm");
  button.disabled = true;
  try {
    await api(`/accounts/${encodeURIComponent(account)}/links/${target.user_id}`, { method: "DELETE", json: { reason } });
    revokeForm.hidden = true;
    showStatus(`Пользователь ${target.username} отключён от лицевого счёта ${account} и получил уведомление; ` +
      "коды привязки с выданных квитанций отозваны.", "success");
    await Promise.all([renderLinks(), renderHistory()]);
  } catch (err) {
    revokeError.textContent = err.message;
    revokeError.hidden = false;
  } finally {
    button.disabled = false;
  }
});

document.getElementById("revoke-cancel").addEventListener("click", () => { revokeForm.hidden = true; });

document.getElementById("revoke-codes").addEventListener("click", async () => {
  const done = await api(`/accounts/${encodeURIComponent(account)}/link-codes/revoke`, { method: "POST" });
  const [year, month] = done.up_to_period.split("-");
  showStatus(`Коды привязки с квитанций по ${month}.${year} включительно больше не действуют.`, "success");
  await renderHistory();
});

async function show(no) {
  showStatus("");
  revokeForm.hidden = true;
  card.hidden = true;
  try {
    await loadAccount(no);
  } catch (err) {
    card.hidden = true;
    showStatus(err.status === 403 ? "Раздел доступен бухгалтерии и администратору." : err.message, "error");
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  show(form.account.value.trim());
});

runPage(async () => {
  const start = new URLSearchParams(location.search).get("account");
  if (start) {
    form.account.value = start;
    await show(start);
  }
}, { accounts: false });
