// Confirming an e-mail address with ?token= from the letter (POST /auth/email-confirm); public.
import { api, PREFIX } from "../cabinet.js";

const token = new URLSearchParams(location.search).get("token");
const form = document.getElementById("confirm-form");
const error = document.getElementById("confirm-error");
const done = document.getElementById("confirm-done");

function show(el, text) {
  el.textContent = text;
  el.hidden = false;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.hidden = true;
  try {
    const r = await api("/auth/email-confirm", { method: "POST", json: { token }, redirectOn401: false });
    form.hidden = true;
    show(done, `Адрес ${r.email} подтверждён.`);
    history.replaceState(null, "", `${PREFIX}/confirm-email`); // the token is spent
  } catch (err) {
    show(error, err.message);
  }
});

if (!token) {
  form.querySelector("button").disabled = true;
  show(error, "В ссылке нет кода подтверждения: откройте ссылку из письма целиком.");
}
document.body.dataset.ready = "true";
