// The operator's intake: find the account (number, phone, address), register the request, attach a scan.
import { api, fill, h, runPage, showStatus } from "../cabinet.js";
import { requestLink } from "../desk.js";

const form = document.getElementById("intake");

async function lookup(event) {
  event.preventDefault();
  const q = document.getElementById("q").value.trim();
  const hits = await api(`/servicedesk/lookup?${new URLSearchParams({ q })}`);
  const how = { account: "номеру счёта", phone: "телефону", address: "адресу" };
  fill(document.getElementById("hits"), ...hits.map((a) => h("tr", { "data-account": a.account_no },
    h("td", { text: a.account_no }), h("td", { text: a.address }), h("td", { text: a.premise_no }),
    h("td", { text: how[a.matched] }),
    h("td", {}, h("button", { type: "button", text: "Выбрать", onclick: () => {
      form.account_no.value = a.account_no;
      form.building_id.value = "";
      form.text.focus();
    } })))));
  showStatus(hits.length ? "" : "Ничего не найдено.", "info");
}

async function register(event) {
  event.preventDefault();
  const body = {};
  for (const key of ["channel", "category", "account_no", "building_id", "applicant", "contact", "text"]) {
    const v = form[key].value.trim();
    if (v) body[key] = v;
  }
  try {
    const card = await api("/servicedesk/requests", { method: "POST", json: body });
    const scan = form.scan.files[0];
    if (scan) {
      const data = new FormData();
      data.append("file", scan);
      await api(`/servicedesk/requests/${card.id}/attachments`, { method: "POST", form: data });
    }
    const created = document.getElementById("created");
    fill(created, "Зарегистрировано обращение ", requestLink(card.id),
      card.executor ? `, исполнитель: ${card.executor}` : ", исполнитель не назначен");
    created.hidden = false;
    form.reset();
    showStatus("");
  } catch (err) {
    showStatus(err.message, "error");
  }
}

runPage(async () => {
  const categories = await api("/servicedesk/categories");
  fill(document.getElementById("category"), ...categories.map((c) => h("option", { value: c.category, text: c.name_ru })));
  document.getElementById("lookup").addEventListener("submit", (e) => lookup(e).catch((err) => showStatus(err.message, "error")));
  form.addEventListener("submit", register);
}, { accounts: false });
