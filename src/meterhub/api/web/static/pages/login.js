import { api, ApiError, PREFIX, renderContacts } from "../cabinet.js";

const form = document.getElementById("login-form");
const error = document.getElementById("login-error");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.hidden = true;
  const username = form.username.value.trim();
  const password = form.password.value;
  if (!username || !password) {
    error.textContent = "Введите логин и пароль.";
    error.hidden = false;
    return;
  }
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    await api("/auth/login", { method: "POST", json: { username, password }, redirectOn401: false });
    location.assign(form.dataset.next || `${PREFIX}/`);
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 400)) {
      error.textContent = "Неверный логин или пароль.";
    } else if (err instanceof ApiError && err.status === 429) {
      // the API says how long: «Слишком много неудачных попыток, повторите через N мин»
      error.textContent = err.message;
    } else {
      error.textContent = err.message;
    }
    error.hidden = false;
    button.disabled = false;
  }
});

renderContacts(document.getElementById("contacts"), document.getElementById("access-howto")).then((c) => {
  if (c && !c.password_recovery) {
    document.getElementById("forgot-link").replaceWith(
      document.createTextNode("Забыли пароль? Обратитесь в управляющую компанию — контакты ниже."));
  }
}).finally(() => {
  document.body.dataset.ready = "true";
});
