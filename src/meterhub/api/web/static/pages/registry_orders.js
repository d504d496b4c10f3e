// Справка orders from residents: print the справка, then mark the order issued (or refused).
import { api, dateTimeLabel, fill, h, runPage, showStatus } from "../cabinet.js";
import { printUrl } from "../registry.js";

const KIND = { registration: "о регистрации", family: "о составе семьи", period: "о периоде проживания" };
const STATUS = { new: "новый", issued: "выдана", refused: "отказано" };

async function load() {
  const orders = await api("/registry/orders");
  fill(document.getElementById("orders"), ...orders.map((o) => h("tr", { "data-order": o.order_id },
    h("td", { text: String(o.order_id) }), h("td", { text: `дом ${o.building_id}, кв. ${o.premise_no} (ЛС ${o.account_no})` }),
    h("td", { text: KIND[o.kind] || o.kind }), h("td", { text: o.comment }),
    h("td", { text: `${o.ordered_by}, ${dateTimeLabel(o.ordered_at)}` }), h("td", { text: STATUS[o.status] }),
    h("td", {}, o.status === "new" ? [
      o.kind === "family" ? h("a", { class: "button small", href: printUrl({ kind: "family", building_id: o.building_id, premise_no: o.premise_no }), text: "Печать" }) : null,
      h("button", { type: "button", text: "Выдана", onclick: () => decide(o.order_id, "issued") }),
      h("button", { type: "button", text: "Отказать", onclick: () => decide(o.order_id, "refused") }),
    ] : o.staff_note))));
}

async function decide(id, status) {
  const note = status === "refused" ? prompt("Причина отказа") || "" : "";
  try {
    await api(`/registry/orders/${id}`, { method: "POST", json: { status, note } });
    await load();
  } catch (err) {
    showStatus(err.message, "error");
  }
}

runPage(load, { accounts: false });
