// Profile: notifications, password change, e-mail for recovery, sessions and tokens, contacts.
import { api, dateLabel, dateTimeLabel, fill, h, renderContacts, runPage, showUnread } from "../cabinet.js";

function show(el, text) {
  el.textContent = text;
  el.hidden = false;
}

async function renderNotifications() {
  const data = await api("/me/notifications");
  const list = document.getElementById("notification-list");
  fill(list, ...data.items.map((n) => h("li", { class: n.read ? "read" : "unread", "data-kind": n.kind },
    h("div", { class: "muted small", text: `${dateTimeLabel(n.created_at)} · ${n.kind_name}` }),
    n.link ? h("a", { href: n.link, text: n.text_ru }) : h("span", { text: n.text_ru }))));
  document.getElementById("notifications-empty").hidden = data.items.length > 0;
  const mark = document.getElementById("mark-read");
  mark.hidden = !data.unread;
  mark.onclick = async () => {
    await api("/me/notifications/read", { method: "POST" });
    await renderNotifications();
    showUnread();
  };
}

async function renderSessions() {
  const rows = await api("/auth/tokens");
  const tbody = document.querySelector("#sessions-table tbody");
  fill(tbody, ...rows.map((s) => h("tr", { "data-kind": s.kind, "data-current": s.current ? "true" : "false" },
    h("td", {}, s.current ? `${s.kind_name} (этот)` : s.kind_name, s.name ? h("div", { class: "muted small", text: s.name }) : null,
      s.client_ip ? h("div", { class: "muted small", text: `адрес ${s.client_ip}` }) : null),
    h("td", { text: dateTimeLabel(s.created_at) }),
    h("td", { text: dateTimeLabel(s.last_used_at) }),
    h("td", { text: dateLabel(s.expires_at) }),
    h("td", {}, s.current ? null : h("button", {
      type: "button", class: "revoke", text: "Завершить",
      onclick: async (event) => {
        event.target.disabled = true;
        await api(`/auth/tokens/${s.id}`, { method: "DELETE" });
        await renderSessions();
      },
    })))));
}

function wirePasswordForm() {
  const form = document.getElementById("password-form");
  const error = document.getElementById("password-error");
  const done = document.getElementById("password-done");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    done.hidden = true;
    const current = form.current_password.value;
    const next = form.new_password.value;
    if (!current || !next) return show(error, "Заполните текущий и новый пароль.");
    if (next !== form.new_password_2.value) return show(error, "Новые пароли не совпадают.");
    try {
      await api("/me/password", { method: "PUT", json: { current_password: current, new_password: next } });
      form.reset();
      done.hidden = false;
      await renderSessions();
      await renderNotifications();
    } catch (err) {
      show(error, err.message);
    }
  });
}

// The address, whether it is confirmed, a new one waiting for its link (GET /me/email).
function renderEmailState(data) {
  const state = document.getElementById("email-state");
  const resend = document.getElementById("email-resend");
  let text = "";
  if (data.pending_email) {
    text = `Новый адрес ${data.pending_email} не подтверждён: откройте ссылку из письма. До тех пор письма ` +
      `приходят на ${data.email}.`;
  } else if (data.email && !data.confirmed) {
    text = "Адрес не подтверждён: откройте ссылку из письма. До подтверждения на него не придут ни ссылки " +
      "для восстановления пароля, ни уведомления.";
  } else if (data.email) {
    text = "Адрес подтверждён.";
  }
  state.textContent = text;
  state.hidden = !text;
  state.className = data.pending_email || (data.email && !data.confirmed) ? "small status warning" : "small muted";
  resend.hidden = !(data.mail_configured && (data.pending_email || (data.email && !data.confirmed)));
}

async function renderEmail() {
  const data = await api("/me/email");
  document.getElementById("email").value = data.pending_email || data.email || "";
  renderEmailState(data);
}

function wireEmailForm() {
  const form = document.getElementById("email-form");
  const error = document.getElementById("email-error");
  const done = document.getElementById("email-done");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    done.hidden = true;
    const email = form.email.value.trim();
    try {
      const data = await api("/me/email", { method: "PUT", json: { email: email || null } });
      renderEmailState(data);
      done.textContent = data.pending_email || (data.email && !data.confirmed)
        ? "Сохранено. Мы отправили письмо со ссылкой для подтверждения адреса."
        : "Сохранено.";
      done.hidden = false;
      await renderEmailKinds();
    } catch (err) {
      show(error, err.status === 422 ? "Проверьте адрес электронной почты: например, ivanova@mail.ru." : err.message);
      await renderEmail();
    }
  });
  document.getElementById("email-resend").addEventListener("click", async () => {
    error.hidden = true;
    done.hidden = true;
    try {
      renderEmailState(await api("/me/email/confirmation", { method: "POST" }));
      done.textContent = "Письмо отправлено: откройте ссылку из него.";
      done.hidden = false;
    } catch (err) {
      show(error, err.message);
    }
  });
}

// Which notifications also come by e-mail (GET/PUT /me/email-notifications).
async function renderEmailKinds() {
  const data = await api("/me/email-notifications");
  const box = document.getElementById("email-kinds");
  fill(box, h("legend", { text: "Присылать письмом" }), ...data.kinds.map((k) => h("label", { class: "check" },
    h("input", { type: "checkbox", name: "kind", value: k.kind, checked: k.enabled }), ` ${k.name}`)));
  const note = document.getElementById("email-kinds-note");
  note.hidden = Boolean(data.email && data.mail_configured);
  note.textContent = !data.mail_configured
    ? "Отправка писем не настроена управляющей компанией."
    : "Сначала укажите адрес электронной почты.";
}

function wireEmailKindsForm() {
  const form = document.getElementById("email-kinds-form");
  const error = document.getElementById("email-kinds-error");
  const done = document.getElementById("email-kinds-done");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    done.hidden = true;
    const kinds = [...form.querySelectorAll("input[name=kind]:checked")].map((i) => i.value);
    try {
      await api("/me/email-notifications", { method: "PUT", json: { kinds } });
      done.hidden = false;
      await renderEmailKinds();
    } catch (err) {
      show(error, err.message);
    }
  });
}

runPage(async () => {
  wirePasswordForm();
  wireEmailForm();
  wireEmailKindsForm();
  await Promise.all([renderEmail(), renderNotifications(), renderSessions(), renderEmailKinds(),
    renderContacts(document.getElementById("contacts"))]);
}, { accounts: false });
