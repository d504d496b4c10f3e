// Requests (заявки и обращения): file one with a category, text and an optional photo; see their status.
import { api, ApiError, dateTimeLabel, fill, h, noAccountMessage, runPage } from "../cabinet.js";

export const CATEGORIES = {
  plumbing: "Сантехника, протечки",
  electrical: "Электричество",
  heating: "Отопление",
  meters: "Приборы учёта",
  billing: "Начисления и оплата",
  common_areas: "Места общего пользования, уборка",
  other: "Другое",
};
export const STATUSES = { new: "Новая", in_progress: "В работе", done: "Выполнена", rejected: "Отклонена", closed: "Закрыта" };
const MAX_PHOTO = 5 * 1024 * 1024;

function historyList(entries) {
  return h("ol", { class: "history" }, ...entries.map((e) =>
    h("li", { text: `${dateTimeLabel(e.changed_at)}: ${e.status_name || STATUSES[e.status] || e.status}${e.comment ? ` — ${e.comment}` : ""}` })));
}

function requestItem(r) {
  const id = r.id ?? r.request_id;
  const history = h("details", { class: "request-history" }, h("summary", { text: "История" }));
  history.addEventListener("toggle", async () => {
    if (!history.open || history.dataset.loaded) return;
    history.dataset.loaded = "true";
    try {
      const full = await api(`/requests/${encodeURIComponent(id)}`);
      history.append(historyList(full.history || []));
    } catch (err) {
      history.append(h("p", { class: "error", text: err.message }));
    }
  }, { once: false });
  return h("li", { "data-request": id, "data-status": r.status },
    h("div", { class: "req-head" },
      h("strong", { text: `№ ${id} · ${CATEGORIES[r.category] || r.category_name || r.category}` }),
      h("span", { class: `badge ${r.status}`, text: STATUSES[r.status] || r.status_name || r.status })),
    h("div", { class: "muted", text: `Подана ${dateTimeLabel(r.created_at)}${r.updated_at && r.updated_at !== r.created_at ? ` · изменена ${dateTimeLabel(r.updated_at)}` : ""}` }),
    h("p", { class: "request-text", text: r.text }),
    // the answer of the management company (for a rejected request: the reason) — not hidden in the history
    r.answer ? h("p", { class: `request-answer ${r.status}` },
      h("strong", { text: r.status === "rejected" ? "Причина отказа: " : "Ответ управляющей компании: " }), r.answer) : null,
    r.has_photo ? h("img", { class: "photo-preview", src: `/api/v1/requests/${encodeURIComponent(id)}/photo`, alt: "Фото к заявке", loading: "lazy" }) : null,
    history);
}

runPage(async ({ current }) => {
  if (!current) return noAccountMessage();
  const base = `/accounts/${encodeURIComponent(current.account_no)}/requests`;
  const form = document.getElementById("request-form");
  const select = document.getElementById("request-category");
  fill(select, h("option", { value: "", text: "Выберите категорию" }),
    ...Object.entries(CATEGORIES).map(([k, v]) => h("option", { value: k, text: v })));
  const error = document.getElementById("request-error");
  const photo = document.getElementById("request-photo");
  const preview = document.getElementById("photo-preview");
  photo.addEventListener("change", () => {
    const file = photo.files[0];
    if (preview.src) URL.revokeObjectURL(preview.src);
    preview.hidden = !file;
    if (file) preview.src = URL.createObjectURL(file);
  });

  async function refresh() {
    const data = await api(base);
    const items = Array.isArray(data) ? data : data.requests || data.items || [];
    fill(document.getElementById("requests-list"), ...items.map(requestItem));
    document.getElementById("requests-empty").hidden = items.length > 0;
    const notices = await api(`/servicedesk/accounts/${encodeURIComponent(current.account_no)}/announcements`);
    document.getElementById("announcements").hidden = notices.length === 0;
    fill(document.getElementById("announcements-list"), ...notices.map((n) => h("li", { class: "request", "data-announcement": n.announcement_id },
      h("strong", { text: `${n.kind_name}: ${n.title}` }), h("p", { text: `с ${dateTimeLabel(n.starts_at)} по ${dateTimeLabel(n.ends_at)}` }),
      h("p", { class: "muted", text: n.body }))));
    // outgoing letters of the УК (answers with their number and date), printable
    const letters = await api(`/servicedesk/accounts/${encodeURIComponent(current.account_no)}/letters`);
    document.getElementById("letters").hidden = letters.length === 0;
    fill(document.getElementById("letters-list"), ...letters.map((l) => h("li", { class: "request", "data-letter": l.letter_no },
      h("strong", { text: `Исх. № ${l.letter_no} от ${l.registered_on.split("-").reverse().join(".")}` }),
      l.request_id ? ` — на заявку № ${l.request_id}` : "", h("p", { text: l.subject }), h("p", { class: "muted", text: l.body }),
      h("a", { href: `/api/v1/servicedesk/accounts/${encodeURIComponent(current.account_no)}/letter.pdf?letter_id=${l.letter_id}`,
        target: "_blank", text: "Открыть для печати (PDF)" }))));
  }

  const optin = document.getElementById("optin");
  const saved = await api("/servicedesk/announcement-optin");
  optin.by_email.checked = saved.by_email;
  optin.by_sms.checked = saved.by_sms;
  optin.phone.value = saved.phone;
  optin.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api("/servicedesk/announcement-optin", { method: "PUT",
        json: { by_email: optin.by_email.checked, by_sms: optin.by_sms.checked, phone: optin.phone.value.trim() } });
      optin.dataset.saved = "true";
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    }
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const text = form.text.value.trim();
    const fail = (msg) => {
      error.textContent = msg;
      error.hidden = false;
    };
    if (!select.value) return fail("Выберите категорию заявки.");
    if (!text) return fail("Опишите, что случилось.");
    const file = photo.files[0];
    if (file && file.size > MAX_PHOTO) return fail("Фото больше 5 МБ: уменьшите его или сделайте снимок заново.");
    const body = new FormData();
    body.append("category", select.value);
    body.append("text", text);
    if (file) body.append("photo", file);
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await api(base, { method: "POST", form: body });
      form.reset();
      preview.hidden = true;
      await refresh();
    } catch (err) {
      fail(err instanceof ApiError && err.status === 422 ? `Заявка не отправлена: ${err.message}` : err.message);
    } finally {
      button.disabled = false;
    }
  });
  await refresh();
});
