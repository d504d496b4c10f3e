// Requests (заявки и обращения): file one with a category, text and an optional photo; see their status.
import { api, ApiError, dateTimeLabel, h, noAccountMessage, runPage } from "../cabinet.js";

export const CATEGORIES = {
  plumbing: "Сантехника, протечки",
  electrical: "Электричество",
  heating: "Отопление",
  meters: "Приборы учёта",
  billing: "Начисления и оплата",
  common_areas: "Места общего пользования, уборка",
  other: "Другое",
};
export const STATUSES = { new: "Новая", in_progress: "В работе", done: "Выполнена", rejected: "Отклонена" };
const MAX_PHOTO = 5 * 1024 * 1024;

function requestItem(r) {
  const history = r.history || [];
  return h("li", { "data-request": r.request_id ?? r.id, "data-status": r.status },
    h("div", { class: "req-head" },
      h("strong", { text: `№ ${r.request_id ?? r.id} · ${CATEGORIES[r.category] || r.category}` }),
      h("span", { class: `badge ${r.status}`, text: STATUSES[r.status] || r.status })),
    h("div", { class: "muted", text: dateTimeLabel(r.created_at) }),
    h("p", { text: r.text }),
    r.has_photo || r.photo_url ? h("div", { class: "muted", text: "К заявке приложено фото" }) : null,
    history.length > 1 ? h("ul", { class: "history" }, ...history.slice(1).map((e) =>
      h("li", { text: `${dateTimeLabel(e.changed_at)}: ${STATUSES[e.status] || e.status}${e.comment ? ` — ${e.comment}` : ""}` }))) : null);
}

runPage(async ({ current }) => {
  if (!current) return noAccountMessage();
  const base = `/accounts/${encodeURIComponent(current.account_no)}/requests`;
  const form = document.getElementById("request-form");
  const select = document.getElementById("request-category");
  select.replaceChildren(h("option", { value: "", text: "Выберите категорию" }),
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
    document.getElementById("requests-list").replaceChildren(...items.map(requestItem));
    document.getElementById("requests-empty").hidden = items.length > 0;
  }

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
