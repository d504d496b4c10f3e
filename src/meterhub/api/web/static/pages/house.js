// House charts (показатели дома): the house meter's consumption by month per m² and per person, and the
// common-property coefficient by month — this year against last year.
import { api, capitalize, fill, h, MONTHS, MONTHS_SHORT, noAccountMessage, runPage, SERVICE_NAMES, unitLabel } from "../cabinet.js";
import { renderBarChart, renderLegend } from "../chart.js";
import { formatDecimal, toNumber } from "../decimal.js";

const METRICS = [
  { key: "per_m2", title: "Расход на 1 м² площади", unitSuffix: "/м²" },
  { key: "per_person", title: "Расход на одного проживающего", unitSuffix: "/чел." },
  { key: "common_per_m2", title: "Коэффициент ОДН: общедомовые нужды на 1 м²", unitSuffix: "/м²" },
];

const num = (v) => (v === null || v === undefined ? null : toNumber(typeof v === "object" ? v.value : v));
const text = (v, suffix) => (v === null || v === undefined ? "нет данных" : `${formatDecimal(String(typeof v === "object" ? v.value : v), { maxFrac: 4 })}${suffix}`);

// "январь–апрель", "январь, март" — the months a comparison covers
function monthSpan(months) {
  if (!months.length) return "";
  const run = months.every((m, i) => i === 0 || m === months[i - 1] + 1);
  if (run && months.length > 1) return `${MONTHS[months[0] - 1]}–${MONTHS[months[months.length - 1] - 1]}`;
  return months.map((m) => MONTHS[m - 1]).join(", ");
}

// this year's value of a metric and last year's (the API's "previous_<metric>")
const pick = (month, which, key) => (which === "this_year" ? month[key] : month[`previous_${key}`]) ?? null;

runPage(async ({ current }) => {
  if (!current) return noAccountMessage();
  const details = await api(`/accounts/${encodeURIComponent(current.account_no)}`);
  const buildingId = details.building_id || current.building_id;
  document.getElementById("house-address").textContent = details.address || current.address || "";
  const params = new URLSearchParams(location.search);
  let year = Number(params.get("year")) || new Date().getFullYear();
  const box = document.getElementById("house-charts");

  async function load() {
    document.getElementById("year-title").textContent = `${year} год в сравнении с ${year - 1}`;
    const p = new URLSearchParams(location.search);
    p.set("year", String(year));
    history.replaceState(null, "", `${location.pathname}?${p}`);
    let data;
    try {
      data = await api(`/buildings/${encodeURIComponent(buildingId)}/charts?year=${year}`);
    } catch (err) {
      fill(box, h("p", { class: "error", text: err.message }));
      return;
    }
    const blocks = [];
    const renders = [];
    for (const s of data.services || []) {
      const unitText = `\u00a0${unitLabel(s.unit)}`;
      // Like for like: the API sums only the months with data in both years (comparable_months).
      const same = s.comparable_months || [];
      const change = s.comparable_change_percent
        ? ` (${s.comparable_change_percent.startsWith("-") ? "−" : "+"}${formatDecimal(s.comparable_change_percent.replace(/^-/, ""), { maxFrac: 1 })} %)`
        : "";
      const span = monthSpan(same);
      const summary = s.total !== null && s.total !== undefined
        ? `По общедомовому счётчику за ${year} год: ${text(s.total, unitText)}.` +
          (same.length
            ? ` Сравнение за одинаковые месяцы (${span}): ${year} — ${text(s.comparable_total, unitText)}, ${year - 1} — ${text(s.comparable_previous_total, unitText)}${change}.`
            : ` За ${year - 1} год нет данных за те же месяцы — сравнивать не с чем.`)
        : "Общедомового счётчика нет или за этот год нет данных; показан только расход на общедомовые нужды.";
      const cards = [];
      for (const metric of METRICS) {
        const months = s.months || [];
        if (!months.some((m) => pick(m, "this_year", metric.key) !== null || pick(m, "last_year", metric.key) !== null)) continue;
        const unit = `\u00a0${unitLabel(s.unit)}${metric.unitSuffix}`;
        const bars = months.map((m, i) => {
          const monthNo = Number(m.month) || i + 1;
          const cur = pick(m, "this_year", metric.key);
          const prev = pick(m, "last_year", metric.key);
          return {
            label: MONTHS_SHORT[monthNo - 1],
            title: `${capitalize(MONTHS[monthNo - 1])} ${year}: ${text(cur, unit)}`,
            value: num(cur),
            quality: "measured",
            prevValue: num(prev),
            prevTitle: `${capitalize(MONTHS[monthNo - 1])} ${year - 1}: ${text(prev, unit)}`,
          };
        });
        const chart = h("div", { class: "chart", "data-metric": metric.key, "data-service": s.service });
        const info = h("p", { class: "chart-info muted" });
        const legend = h("div", { class: "legend" });
        cards.push(h("div", { class: "house-chart" }, h("h3", { text: metric.title }), chart, info, legend));
        renders.push(() => {
          renderBarChart(chart, bars, { showPrevious: true, markGaps: false, unit: `${unitLabel(s.unit)}${metric.unitSuffix}`, ariaLabel: `${SERVICE_NAMES[s.service] || s.service}: ${metric.title}`, onSelect: (b) => { info.textContent = `${b.title}; ${b.prevTitle}`; } });
          renderLegend(legend, [{ cls: "zone-1", text: String(year) }, { cls: "prev", text: `${year - 1} (те же месяцы)` }]);
        });
      }
      if (cards.length) {
        blocks.push(h("section", { class: "card", "data-service": s.service },
          h("h2", { text: SERVICE_NAMES[s.service] || s.service }),
          h("p", { class: "house-summary muted", "data-comparable-months": same.join(","), text: summary }), ...cards));
      }
    }
    fill(box, ...(blocks.length ? blocks : [h("p", { class: "muted", text: "Нет данных общедомового прибора учёта за этот год." })]));
    for (const draw of renders) draw();
  }
  document.getElementById("prev-year").addEventListener("click", () => { year -= 1; load(); });
  document.getElementById("next-year").addEventListener("click", () => { year += 1; load(); });
  await load();
});
