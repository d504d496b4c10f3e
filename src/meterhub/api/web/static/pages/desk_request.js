// A request's card: deadlines, history, files; assign, answer, resolve, close.
import { api, API, dateTimeLabel, fill, h, runPage, showStatus } from "../cabinet.js";
import { CHANNELS, EVENTS, STATUSES } from "../desk.js";

const id = new URLSearchParams(location.search).get("id");

function row(label, value) {
  return [h("dt", { text: label }), h("dd", { text: value ?? "—" })];
}

async function load() {
  const r = await api(`/servicedesk/requests/${id}`);
  document.getElementById("page-title").textContent = `Обращение № ${r.id}`;
  document.body.dataset.status = r.status;
  fill(document.getElementById("card"),
    row("Статус", STATUSES[r.status] || r.status), row("Категория", r.category_name), row("Канал", CHANNELS[r.channel] || r.channel),
    row("Адрес", `${r.address}${r.account_no ? `, ЛС ${r.account_no}` : ""}`), row("Заявитель", [r.applicant, r.contact].filter(Boolean).join(", ")),
    row("Суть", r.text), row("Исполнитель", r.executor), row("Зарегистрировано", dateTimeLabel(r.created_at)),
    row("Срок ответа", r.response_due_at && dateTimeLabel(r.response_due_at)), row("Срок исполнения", r.resolution_due_at && dateTimeLabel(r.resolution_due_at)),
    row("Эскалация", r.escalation_level ? `уровень ${r.escalation_level}` : "нет"), row("Оценка", r.rating));
  fill(document.getElementById("events"), ...r.events.map((e) => h("tr", {},
    h("td", { text: dateTimeLabel(e.at) }), h("td", { text: EVENTS[e.kind] || e.kind }), h("td", { text: e.text }),
    h("td", { text: e.executor || "" }), h("td", { text: e.actor || "" }))));
  fill(document.getElementById("files"), ...r.attachments.map((f) => h("li", {},
    h("a", { href: `${API}/servicedesk/requests/${r.id}/attachments?attachment_id=${f.attachment_id}`, text: f.filename }),
    ` (${Math.ceil(f.size_bytes / 1024)} КиБ)`)));
  fill(document.getElementById("letters"), ...r.letters.map((l) => h("li", { "data-letter": l.letter_no },
    h("a", { href: `${API}/servicedesk/requests/${r.id}/letter.pdf?letter_id=${l.letter_id}`, target: "_blank", text: `Исх. № ${l.letter_no}` }),
    ` от ${l.registered_on.split("-").reverse().join(".")}: ${l.subject}`)));
}

function action(formId, path, body) {
  const form = document.getElementById(formId);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api(`/servicedesk/requests/${id}/${path}`, { method: "POST", json: body(form) });
      form.reset();
      await load();
      showStatus("Сохранено.", "info");
    } catch (err) {
      showStatus(err.message, "error");
    }
  });
}

runPage(async () => {
  await load();
  try {
    const executors = await api("/servicedesk/executors");
    fill(document.getElementById("executor"), ...executors.map((x) => h("option", { value: x.executor_id, text: x.name })));
  } catch {
    for (const el of document.querySelectorAll("[data-operator]")) el.hidden = true;  // a contractor
  }
  action("assign", "assign", (f) => ({ executor_id: Number(f.executor_id.value), comment: f.comment.value }));
  action("answer", "answer", (f) => ({ text: f.text.value }));
  action("resolve", "resolve", (f) => ({ text: f.text.value }));
  action("letter", "letters", (f) => ({ subject: f.subject.value, body: f.body.value, signed_by: f.signed_by.value }));
  action("close", "close", (f) => ({ confirmed: f.confirmed.checked, rating: f.rating.value ? Number(f.rating.value) : null }));
}, { accounts: false });
