import { api, ApiError, PREFIX } from "../cabinet.js";

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
      error.textContent = "Слишком много неудачных попыток. Подождите несколько минут и попробуйте снова.";
    } else {
      error.textContent = err.message;
    }
    error.hidden = false;
    button.disabled = false;
  }
});
document.body.dataset.ready = "true";
