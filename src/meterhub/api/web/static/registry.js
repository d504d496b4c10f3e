// Shared code of the passport office pages: labels, the page URLs, a PDF/XLSX download from the API.
import { API, ApiError, describeDetail, getCookie } from "./cabinet.js";

export const REGISTRY = "/cabinet/registry";
export const KINDS = { residence: "по месту жительства", stay: "по месту пребывания", notice: "временно проживающий" };
export const REASONS = { departure: "выбытие", death: "смерть", court: "решение суда", stay_ended: "окончание пребывания" };
export const FORMS = {
  form6: "Заявление о регистрации (ф. 6)",
  form9: "Карточка регистрации (ф. 9)",
  form10: "Поквартирная карточка (ф. 10)",
  registration: "Справка о регистрации",
  family: "Справка о составе семьи",
  period: "Справка о периоде проживания",
};

// dd.mm.yyyy of an ISO date; "" for none.
export function ruDate(iso) {
  if (!iso) return "";
  const [y, m, d] = iso.slice(0, 10).split("-");
  return `${d}.${m}.${y}`;
}

// The last day counted of a span that ends (exclusive) on ``iso``.
export function lastDay(iso) {
  if (!iso) return "";
  const d = new Date(`${iso.slice(0, 10)}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - 1);
  return ruDate(d.toISOString());
}

export function printUrl(params) {
  return `${REGISTRY}/print?${new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== ""))}`;
}

// POST json → the binary answer as a Blob (PDF), with the same CSRF and error handling as api().
export async function postForBlob(path, json) {
  const response = await fetch(API + path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": getCookie("mh_csrf") || "" },
    body: JSON.stringify(json),
  });
  if (!response.ok) {
    let detail = null;
    try {
      detail = (await response.json()).detail;
    } catch {
      /* not JSON */
    }
    throw new ApiError(response.status, describeDetail(detail) || `Ошибка ${response.status}`, detail);
  }
  return response.blob();
}

// The form's values as an object, empty strings left out.
export function formValues(form) {
  const out = {};
  for (const [k, v] of new FormData(form).entries()) if (v !== "") out[k] = v;
  return out;
}
