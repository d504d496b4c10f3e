// Shared code of the cabinet pages: the JSON API client (session cookie + CSRF header), the account
// switcher in the header, small DOM helpers and Russian labels.

export const API = "/api/v1";
export const PREFIX = "/cabinet";

export function getCookie(name) {
  for (const part of document.cookie.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return decodeURIComponent(v.join("="));
  }
  return null;
}

export class ApiError extends Error {
  constructor(status, message, detail) {
    super(message);
    this.status = status;
    this.detail = detail;
  }
}

// A 422 detail is a string or pydantic's list of {loc, msg}; say it in one line.
// The API writes "english text (русский текст)"; a resident is shown the Russian part. A message written
// in Russian (the passport office's: more Cyrillic than Latin letters before the brackets) is shown whole.
export function russianPart(message) {
  const m = /\(([^()]*[а-яё][^()]*)\)\s*\.?\s*$/i.exec(message);
  if (!m) return message;
  const before = message.slice(0, m.index);
  const cyrillic = (before.match(/[а-яё]/gi) || []).length;
  const latin = (before.match(/[a-z]/gi) || []).length;
  return cyrillic > latin ? capitalize(message) : capitalize(m[1].trim());
}

export function describeDetail(detail) {
  if (!detail) return "";
  if (typeof detail === "string") return russianPart(detail);
  if (Array.isArray(detail)) {
    return detail
      .map((e) => {
        if (typeof e === "string") return e;
        if (e.msg_ru) return capitalize(e.msg_ru); // the registry's refusals name the field in Russian
        const field = Array.isArray(e.loc) ? e.loc.filter((p) => p !== "body" && p !== "query").join(".") : "";
        return field ? `${field}: ${e.msg}` : e.msg;
      })
      .join("; ");
  }
  if (typeof detail === "object") {
    return detail.message_ru || detail.message || detail.msg || JSON.stringify(detail);
  }
  return String(detail);
}

const STATUS_TEXT = {
  400: "Неверный запрос",
  403: "Нет доступа",
  404: "Не найдено",
  409: "Конфликт данных",
  413: "Файл слишком большой",
  422: "Проверьте введённые данные",
  429: "Слишком много попыток, подождите и повторите",
  500: "Ошибка сервера, попробуйте позже",
  503: "Сервис временно недоступен",
};

export function goToLogin() {
  const here = location.pathname + location.search;
  location.assign(`${PREFIX}/login?next=${encodeURIComponent(here)}`);
}

// fetch() against /api/v1 with the cookie session. Unsafe methods carry X-CSRF-Token = cookie mh_csrf.
export async function api(path, { method = "GET", json, form, raw = false, redirectOn401 = true } = {}) {
  const headers = { Accept: "application/json" };
  const init = { method, headers, credentials: "same-origin" };
  if (!["GET", "HEAD"].includes(method)) {
    const csrf = getCookie("mh_csrf");
    if (csrf) headers["X-CSRF-Token"] = csrf;
  }
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (form !== undefined) {
    init.body = form; // multipart: the browser sets the boundary
  }
  let response;
  try {
    response = await fetch(API + path, init);
  } catch (err) {
    throw new ApiError(0, "Нет связи с сервером. Проверьте подключение.", String(err));
  }
  if (response.status === 401 && redirectOn401) {
    goToLogin();
    throw new ApiError(401, "Сеанс истёк, войдите снова");
  }
  if (!response.ok) {
    let detail = null;
    try {
      detail = (await response.json()).detail;
    } catch {
      /* not JSON */
    }
    const text = describeDetail(detail) || STATUS_TEXT[response.status] || `Ошибка ${response.status}`;
    throw new ApiError(response.status, text, detail);
  }
  if (raw) return response;
  if (response.status === 204) return null;
  return response.json();
}

// h("p", {class: "x", text: "..."}, child, ...): builds DOM without innerHTML, so data is never markup.
export function h(tag, props = {}, ...children) {
  const svg = ["svg", "g", "rect", "line", "text", "title", "path", "defs", "pattern", "polyline", "circle"].includes(tag);
  const node = svg ? document.createElementNS("http://www.w3.org/2000/svg", tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "text") node.textContent = v;
    else if (k === "class") node.setAttribute("class", v);
    else if (k === "dataset") Object.assign(node.dataset, v);
    else if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

// node.replaceChildren() without the holes: null/undefined/false children are left out, not "null".
export function fill(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

export function showStatus(message, kind = "info") {
  const box = document.getElementById("page-status");
  if (!box) return;
  box.textContent = message;
  box.className = `status ${kind}`;
  box.hidden = !message;
}

export const MONTHS = ["январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь"];
export const MONTHS_GEN = ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября", "ноября", "декабря"];
export const MONTHS_SHORT = ["янв", "фев", "мар", "апр", "май", "июн", "июл", "авг", "сен", "окт", "ноя", "дек"];
export const WEEKDAYS_SHORT = ["пн", "вт", "ср", "чт", "пт", "сб", "вс"];

export const capitalize = (s) => (s ? s[0].toUpperCase() + s.slice(1) : s);

// "2026-01" -> "Январь 2026"
export function periodLabel(period) {
  const [y, m] = String(period).split("-").map(Number);
  return m ? `${capitalize(MONTHS[m - 1])} ${y}` : String(period);
}

// "2026-02-25" (or an ISO timestamp) -> "25 февраля 2026"
export function dateLabel(iso) {
  if (!iso) return "";
  const [y, m, d] = String(iso).slice(0, 10).split("-").map(Number);
  return `${d} ${MONTHS_GEN[m - 1]} ${y}`;
}

// The building's IANA zone (set from the account in use): instants are shown in the building's time, as
// on receipts and charts, whatever zone the browser is in. Without an account: the browser's zone.
let displayZone;
export function setDisplayZone(zone) {
  displayZone = zone || undefined;
}

// "YYYY-MM-DDTHH:MM" of an instant in the display zone.
function zonedIso(date) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-CA", {
    timeZone: displayZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  }).formatToParts(date).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

// An instant with a zone ("…Z", "…+03:00") is shown in the building's time zone; a local one as written.
export function dateTimeLabel(iso) {
  if (!iso) return "";
  const t = String(iso);
  if (/T.*(Z|[+-]\d\d:?\d\d)$/.test(t)) {
    const local = zonedIso(new Date(t));
    return `${dateLabel(local)}, ${local.slice(11, 16)}`;
  }
  return t.length > 10 ? `${dateLabel(t)}, ${t.slice(11, 16)}` : dateLabel(t);
}

export const SERVICE_NAMES = {
  electricity: "Электроэнергия",
  cold_water: "Холодная вода",
  hot_water: "Горячая вода",
  wastewater: "Водоотведение",
  heat: "Отопление",
  maintenance: "Содержание жилья",
};

export const UNIT_NAMES = { kWh: "кВт·ч", kwh: "кВт·ч", m3: "м³", Gcal: "Гкал", gcal: "Гкал", m2: "м²", RUB: "₽", rub: "₽" };
export const unitLabel = (u) => UNIT_NAMES[u] || u || "";

export const ZONE_NAMES = {
  single: "Круглосуточно",
  total: "Всего",
  day: "День",
  night: "Ночь",
  peak: "Пик",
  semi_peak: "Полупик",
  T1: "T1",
  T2: "T2",
  T3: "T3",
};
export const zoneLabel = (z) => ZONE_NAMES[z] || z;

export const QUALITY_NAMES = {
  measured: "измерено",
  interpolated: "восстановлено",
  estimated: "оценка",
  missing: "нет данных",
};

// The account in use: ?account= in the URL, else the last one chosen, else the first linked one.
export async function loadAccounts() {
  let data;
  try {
    data = await api("/accounts");
  } catch (err) {
    if (err instanceof ApiError && err.status === 403) {
      throw new ApiError(403, "Личный кабинет — для жителей. Сотрудникам доступны API (/api/v1/docs) и панели Grafana.");
    }
    throw err;
  }
  const accounts = Array.isArray(data) ? data : data.accounts || data.items || [];
  const select = document.getElementById("account-select");
  const label = document.getElementById("account-label");
  const params = new URLSearchParams(location.search);
  const wanted = params.get("account") || localStorage.getItem("mh_account");
  const current = accounts.find((a) => a.account_no === wanted) || accounts[0] || null;
  if (current) localStorage.setItem("mh_account", current.account_no);
  if (current) setDisplayZone(current.time_zone);
  const title = (a) => [`ЛС ${a.account_no}`, a.address, a.premise_no ? `кв. ${a.premise_no}` : null].filter(Boolean).join(", ");
  if (select && accounts.length > 1) {
    select.replaceChildren(...accounts.map((a) => h("option", { value: a.account_no, text: title(a), selected: a === current })));
    select.hidden = false;
    select.addEventListener("change", () => {
      localStorage.setItem("mh_account", select.value);
      const p = new URLSearchParams(location.search);
      p.set("account", select.value);
      location.search = p.toString();
    });
  } else if (label && current) {
    label.textContent = title(current);
  }
  return { accounts, current };
}

function wireLogout() {
  const button = document.getElementById("logout");
  if (!button) return;
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await api("/auth/logout", { method: "POST", redirectOn401: false });
    } catch {
      /* already logged out: go to the login page anyway */
    }
    localStorage.removeItem("mh_account");
    location.assign(`${PREFIX}/login`);
  });
}

// Runs a page: header first, then the page body; any error ends up in the status box, never a blank page.
// ``accounts: false``: a page for any logged-in user (the profile), not only residents with accounts.
export async function runPage(body, { accounts = true } = {}) {
  wireLogout();
  try {
    const ctx = accounts ? await loadAccounts() : {};
    showUnread();
    await body(ctx);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) {
      showStatus(err.message || String(err), "error");
      console.error(err);
    }
  } finally {
    document.body.dataset.ready = "true";
  }
}

// A page that needs an account has nothing to offer without one: its controls are hidden (no dead
// buttons), only the message and the way to link an account stay.
export function noAccountMessage() {
  for (const el of document.querySelectorAll("main > :not(h1):not(#page-status)")) el.hidden = true;
  showStatus("К вашей учётной записи не привязан ни один лицевой счёт. Привяжите его на главной странице.", "error");
}

// The management company's and the emergency service's contacts (public GET /contacts) into a <dl>.
export async function renderContacts(dl, howto) {
  let c;
  try {
    c = await api("/contacts", { redirectOn401: false });
  } catch {
    return null;
  }
  if (howto && c.access_howto_ru) howto.textContent = c.access_howto_ru;
  const rows = [
    ["Управляющая компания", c.company_name],
    ["Телефон", c.company_phone],
    ["Эл. почта", c.company_email],
    ["Офис и часы приёма", c.company_address],
    ["Аварийно-диспетчерская служба (круглосуточно)", c.emergency_phone],
  ];
  const items = [];
  for (const [k, v] of rows) {
    if (!v) continue;
    const value = k.startsWith("Телефон") || k.startsWith("Аварийно")
      ? h("a", { href: `tel:${v.replace(/[^+\d]/g, "")}`, text: v })
      : k === "Эл. почта" ? h("a", { href: `mailto:${v}`, text: v }) : v;
    items.push(h("dt", { text: k }), h("dd", {}, value));
  }
  if (dl) fill(dl, ...items);
  return c;
}

// The unread-notifications badge in the header (a failure here never breaks the page).
export async function showUnread() {
  const badge = document.getElementById("unread-count");
  if (!badge) return;
  try {
    const n = await api("/me/notifications", { redirectOn401: false });
    badge.textContent = n.unread ? String(n.unread) : "";
    badge.hidden = !n.unread;
  } catch {
    /* the badge is optional */
  }
}
