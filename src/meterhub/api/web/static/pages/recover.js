// Password recovery: ask for a one-time link by e-mail, or set a new password with ?token= from the letter.
import { api, PREFIX } from "../cabinet.js";

const token = new URLSearchParams(location.search).get("token");
const requestForm = document.getElementById("request-form");
const resetForm = document.getElementById("reset-form");

function show(el, text) {
  el.textContent = text;
  el.hidden = false;
}

requestForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = document.getElementById("request-error");
  const result = document.getElementById("request-result");
  error.hidden = true;
  result.hidden = true;
  const login = requestForm.login.value.trim();
  if (!login) return show(error, "Введите логин или адрес электронной почты.");
  try {
    const r = await api("/auth/password-reset", { method: "POST", json: { login }, redirectOn401: false });
    show(result, r.detail ? r.detail.replace(/^.*\(([^()]*)\)\s*$/, "$1").replace(/^./, (c) => c.toUpperCase()) : "Письмо отправлено.");
  } catch (err) {
    show(error, err.message);
  }
});

resetForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = document.getElementById("reset-error");
  error.hidden = true;
  const password = resetForm.new_password.value;
  if (password !== resetForm.new_password_2.value) return show(error, "Пароли не совпадают.");
  try {
    await api("/auth/password-reset/confirm", { method: "POST", json: { token, new_password: password }, redirectOn401: false });
    resetForm.hidden = true;
    document.getElementById("reset-done").hidden = false;
    history.replaceState(null, "", `${PREFIX}/recover`); // the token is spent: do not keep it in the address bar
  } catch (err) {
    show(error, err.message);
  }
});

if (token) {
  requestForm.hidden = true;
  resetForm.hidden = false;
}
document.body.dataset.ready = "true";
