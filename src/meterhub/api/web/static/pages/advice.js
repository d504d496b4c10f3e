// Tariff advice: the last 12 months of hourly electricity priced under each tariff kind.
import { api, dateLabel, h, noAccountMessage, periodLabel, runPage } from "../cabinet.js";
import { formatRub } from "../decimal.js";

const SCHEME_NAMES = { single_rate: "Одноставочный", two_zone: "Двухзонный (день/ночь)", three_zone: "Трёхзонный (пик/полупик/ночь)" };
const rub = (m) => (m === null || m === undefined ? "—" : formatRub(String(typeof m === "object" ? m.rubles : m)));

runPage(async ({ current }) => {
  if (!current) return noAccountMessage();
  const box = document.getElementById("advice");
  let data;
  try {
    data = await api(`/accounts/${encodeURIComponent(current.account_no)}/tariff-advice`);
  } catch (err) {
    box.replaceChildren(h("p", { class: err.status === 404 || err.status === 422 ? "muted" : "error", text: err.message }));
    return;
  }
  const options = data.options || data.costs || [];
  const cheapest = data.cheapest || data.recommended;
  const current_ = data.current_scheme || data.current;
  const from = data.start || data.period_start || data.from;
  const to = data.end || data.period_end || data.to;
  box.replaceChildren(
    from && to ? h("p", { class: "muted", text: `Период: ${String(from).length === 7 ? periodLabel(from) : dateLabel(from)} — ${String(to).length === 7 ? periodLabel(to) : dateLabel(to)}` }) : null,
    h("div", { class: "table-scroll" }, h("table", { class: "table", id: "advice-table" },
      h("thead", {}, h("tr", {}, h("th", { text: "Тариф" }), h("th", { class: "num", text: "Стоимость за 12 месяцев" }))),
      h("tbody", {}, ...options.map((o) => h("tr", { class: o.scheme === cheapest ? "cheapest" : "", "data-scheme": o.scheme },
        h("td", {}, SCHEME_NAMES[o.scheme] || o.scheme, o.scheme === current_ ? h("span", { class: "badge", text: " ваш тариф" }) : null),
        h("td", { class: "num", text: rub(o.cost ?? o.total) })))))),
    cheapest ? h("p", { class: "advice-best" }, "Выгоднее всего: ", h("strong", { text: SCHEME_NAMES[cheapest] || cheapest }),
      data.saving ? ` — экономия ${rub(data.saving)} в год${current_ ? " по сравнению с текущим тарифом" : ""}.` : ".") : null,
    data.note || data.explanation ? h("p", { class: "muted", text: data.note || data.explanation }) : null,
  );
});
