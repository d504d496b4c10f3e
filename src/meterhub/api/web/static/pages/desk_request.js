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
  const ACT_STATUS = { draft: "черновик", confirmed: "подтверждён (в перерасчёте)", cancelled: "отменён" };
  fill(document.getElementById("acts"), ...r.acts.map((a) => h("li", { "data-act": a.act_no },
    `${a.act_no}: ${a.service}, ${a.kind === "interruption" ? "не предоставлялась" : "ненадлежащее качество"}, `,
    `${dateTimeLabel(a.started_at)} — ${a.ended_at ? dateTimeLabel(a.ended_at) : "не восстановлена"}, ${ACT_STATUS[a.status]} `,
    a.status === "draft" ? h("button", { type: "button", text: "Подтвердить", onclick: () => actStep(a, "confirm") }) : null,
    a.status !== "cancelled" ? h("button", { type: "button", text: "Отменить", onclick: () => actStep(a, "cancel") }) : null)));
  fill(document.getElementById("letters"), ...r.letters.map((l) => h("li", { "data-letter": l.letter_no },
    h("a", { href: `${API}/servicedesk/requests/${r.id}/letter.pdf?letter_id=${l.letter_id}`, target: "_blank", text: `Исх. № ${l.letter_no}` }),
    ` от ${l.registered_on.split("-").reverse().join(".")}: ${l.subject}`)));
}

// datetime-local (the browser's local time) → ISO with its offset
const isoLocal = (v) => (v ? new Date(v).toISOString() : null);

async function actStep(act, step) {
  try {
    const body = {};
    if (step === "confirm" && !act.ended_at) {
      const end = prompt("Когда услуга восстановлена (ГГГГ-ММ-ДД ЧЧ:ММ)?");
      if (!end) return;
      body.ended_at = isoLocal(end.replace(" ", "T"));
    }
    await api(`/servicedesk/requests/${id}/acts/${step}?act_id=${act.act_id}`, { method: "POST", json: step === "confirm" ? body : undefined });
    await load();
  } catch (err) {
    showStatus(err.message, "error");
  }
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
  action("act", "acts", (f) => ({ service: f.service.value, kind: f.kind.value, started_at: isoLocal(f.started_at.value),
    ended_at: isoLocal(f.ended_at.value), whole_building: f.whole_building.checked, findings: f.findings.value }));
  action("letter", "letters", (f) => ({ subject: f.subject.value, body: f.body.value, signed_by: f.signed_by.value }));
  action("close", "close", (f) => ({ confirmed: f.confirmed.checked, rating: f.rating.value ? Number(f.rating.value) : null }));
}, { accounts: false });
