// Tariff advice: the last 12 months of hourly electricity priced under each tariff kind.
import { api, capitalize, fill, h, noAccountMessage, periodLabel, runPage, zoneLabel } from "../cabinet.js";
import { compareDecimals, formatDecimal, formatRub } from "../decimal.js";

const rub = (m) => (m === null || m === undefined ? "—" : formatRub(String(typeof m === "object" ? m.rubles : m)));

// The verdict (message_ru) and the reasons a tariff cannot be priced (reason_ru) come from the API in
// Russian; ties are settled there (the resident's own tariff, when among the cheapest, is the advice).
runPage(async ({ current }) => {
  if (!current) return noAccountMessage();
  const box = document.getElementById("advice");
  let data;
  try {
    data = await api(`/accounts/${encodeURIComponent(current.account_no)}/tariff-advice`);
  } catch (err) {
    fill(box, h("p", { class: err.status === 404 ? "muted" : "error", text: err.message }));
    return;
  }
  const options = data.options || [];
  const min = options.length ? options.reduce((a, o) => (compareDecimals(o.total.rubles, a) < 0 ? o.total.rubles : a), options[0].total.rubles) : null;
  const zonesText = (o) => (o.zones || []).filter((z) => z.zone !== "single")
    .map((z) => `${(z.zone_name || zoneLabel(z.zone)).toLowerCase()} ${formatDecimal(z.volume_kwh, { maxFrac: 2 })} кВт·ч — ${rub(z.amount)}`).join("; ");
  fill(box,
    h("p", { class: "advice-best", id: "advice-verdict", "data-cheapest": data.cheapest || "", text: data.message_ru }),
    h("p", { class: "muted", text: `Период: ${periodLabel(data.period_from).toLowerCase()} — ${periodLabel(data.period_to).toLowerCase()}, потреблено ${formatDecimal(data.volume_kwh, { maxFrac: 2 })} кВт·ч.` }),
    data.complete === false
      ? h("p", { class: "note", text: `Почасовые данные есть за ${data.hours_present} из ${data.hours_expected} часов: сравнение приблизительное.` })
      : null,
    h("div", { class: "table-scroll" }, h("table", { class: "table", id: "advice-table" },
      h("thead", {}, h("tr", {}, h("th", { text: "Тариф" }), h("th", { class: "num", text: "Стоимость за 12 месяцев" }))),
      h("tbody", {}, ...options.map((o) => h("tr", { class: min !== null && compareDecimals(o.total.rubles, min) === 0 ? "cheapest" : "", "data-scheme": o.scheme },
        h("td", {}, capitalize(o.name_ru), o.scheme === data.current_scheme ? h("span", { class: "badge", text: "ваш тариф" }) : null,
          zonesText(o) ? h("div", { class: "muted small", text: zonesText(o) }) : null),
        h("td", { class: "num", text: rub(o.total) })))))),
    ...(data.unavailable || []).map((u) => h("p", { class: "muted small", "data-scheme": u.scheme, text: `${u.reason_ru}.` })),
    planRequest(current.account_no, data, options),
    h("p", { class: "muted small", text: "Для двух- и трёхзонного тарифа нужен многотарифный счётчик. Заявление рассматривает управляющая компания; новый тариф действует со следующего расчётного периода." }),
  );
});

// A button that files the plan change the advice suggests (POST …/tariff-plan-requests); staff approve it.
function planRequest(accountNo, data, options) {
  const best = options.find((o) => o.scheme === data.cheapest);
  if (!best || data.cheapest === data.current_scheme) return null;
  const out = h("p", { class: "muted small", id: "plan-request-result" });
  const button = h("button", { class: "button", id: "plan-request", type: "button", text: `Подать заявление на тариф «${best.name_ru}»` });
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const r = await api(`/accounts/${encodeURIComponent(accountNo)}/tariff-plan-requests`, { method: "POST", json: { scheme: best.scheme } });
      const [y, m, d] = r.effective_from.split("-");
      fill(out, `Заявление № ${r.request_id} подано. После одобрения тариф «${r.scheme_name}» будет действовать с ${d}.${m}.${y}; статус — в разделе «Заявки».`);
    } catch (err) {
      button.disabled = false;
      fill(out, h("span", { class: "error", text: err.message }));
    }
  });
  return h("div", { class: "plan-request" }, button, out);
}
