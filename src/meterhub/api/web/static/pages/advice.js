// Tariff advice: the last 12 months of hourly electricity priced under each tariff kind.
import { api, capitalize, fill, h, noAccountMessage, periodLabel, runPage, zoneLabel } from "../cabinet.js";
import { compareDecimals, formatDecimal, formatRub } from "../decimal.js";

const SCHEME_RU = { single_rate: "одноставочный", two_zone: "двухзонный (день/ночь)", three_zone: "трёхзонный (пик/полупик/ночь)" };
const rub = (m) => (m === null || m === undefined ? "—" : formatRub(String(typeof m === "object" ? m.rubles : m)));

// The verdict from the numbers: the resident's own tariff is named as such only when it really is the
// cheapest (a tie counts); otherwise the cheapest and the saving against the baseline.
export function verdict(data) {
  const options = data.options || [];
  if (!options.length) return "Нет тарифов для сравнения.";
  const min = options.reduce((a, o) => (compareDecimals(o.total.rubles, a) < 0 ? o.total.rubles : a), options[0].total.rubles);
  const mine = options.find((o) => o.scheme === data.current_scheme);
  if (mine && compareDecimals(mine.total.rubles, min) === 0) {
    return `Ваш тариф (${mine.name_ru || SCHEME_RU[mine.scheme]}) — самый выгодный для вашего потребления.`;
  }
  const best = options.find((o) => o.scheme === data.cheapest) || options.find((o) => compareDecimals(o.total.rubles, min) === 0);
  const saving = data.saving && compareDecimals(data.saving.rubles, "0") > 0 ? ` — экономия ${rub(data.saving)} за 12 месяцев` : "";
  return `Выгоднее всего ${best.name_ru || SCHEME_RU[best.scheme]} тариф${saving}.`;
}

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
    .map((z) => `${zoneLabel(z.zone).toLowerCase()} ${formatDecimal(z.volume_kwh, { maxFrac: 1 })} кВт·ч — ${rub(z.amount)}`).join("; ");
  fill(box,
    h("p", { class: "advice-best", id: "advice-verdict", "data-cheapest": data.cheapest || "", text: verdict(data) }),
    h("p", { class: "muted", text: `Период: ${periodLabel(data.period_from).toLowerCase()} — ${periodLabel(data.period_to).toLowerCase()}, потреблено ${formatDecimal(data.volume_kwh, { maxFrac: 1 })} кВт·ч.` }),
    data.complete === false
      ? h("p", { class: "note", text: `Почасовые данные есть за ${data.hours_present} из ${data.hours_expected} часов: сравнение приблизительное.` })
      : null,
    h("div", { class: "table-scroll" }, h("table", { class: "table", id: "advice-table" },
      h("thead", {}, h("tr", {}, h("th", { text: "Тариф" }), h("th", { class: "num", text: "Стоимость за 12 месяцев" }))),
      h("tbody", {}, ...options.map((o) => h("tr", { class: min !== null && compareDecimals(o.total.rubles, min) === 0 ? "cheapest" : "", "data-scheme": o.scheme },
        h("td", {}, capitalize(o.name_ru || SCHEME_RU[o.scheme]), o.scheme === data.current_scheme ? h("span", { class: "badge", text: "ваш тариф" }) : null,
          zonesText(o) ? h("div", { class: "muted small", text: zonesText(o) }) : null),
        h("td", { class: "num", text: rub(o.total) })))))),
    ...(data.unavailable || []).map((u) => h("p", { class: "muted small", title: u.reason, text: `${capitalize(SCHEME_RU[u.scheme] || u.scheme)}: не предлагается для вашего дома или счётчика.` })),
    h("p", { class: "muted small", text: "Сменить тариф можно заявлением в энергосбытовую компанию; для двух- и трёхзонного тарифа нужен многотарифный счётчик." }),
  );
});
