// House charts (показатели дома): the house meter's consumption by month per m² and per person, and the
// common-property coefficient by month — this year against last year.
import { api, capitalize, h, MONTHS, MONTHS_SHORT, noAccountMessage, runPage, SERVICE_NAMES, unitLabel } from "../cabinet.js";
import { renderBarChart, renderLegend } from "../chart.js";
import { formatDecimal, toNumber } from "../decimal.js";

const METRICS = [
  { key: "per_m2", title: "Расход на 1 м² площади", unitSuffix: "/м²" },
  { key: "per_person", title: "Расход на одного проживающего", unitSuffix: "/чел." },
  { key: "common_property_coefficient", title: "Коэффициент общедомовых нужд (доля ОДН)", unitSuffix: "" },
];

const num = (v) => (v === null || v === undefined ? null : toNumber(typeof v === "object" ? v.value : v));
const text = (v, suffix) => (v === null || v === undefined ? "нет данных" : `${formatDecimal(String(typeof v === "object" ? v.value : v), { maxFrac: 4 })}${suffix}`);

// Normalises the API answer into [{service, unit, months: [{month: 1..12, this: {...}, last: {...}}]}].
export function chartSeries(data) {
  const services = data.services || data.series || (data.months ? [data] : []);
  return services.map((s) => {
    const months = s.months || [];
    return { service: s.service, unit: s.unit, months };
  });
}

function pick(month, year, key) {
  const side = month[year] || {};
  return side[key] ?? month[`${key}_${year === "this_year" ? "current" : "previous"}`] ?? null;
}

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
      box.replaceChildren(h("p", { class: "error", text: err.message }));
      return;
    }
    const cards = [];
    for (const s of chartSeries(data)) {
      for (const metric of METRICS) {
        const months = s.months;
        if (!months.some((m) => pick(m, "this_year", metric.key) !== null || pick(m, "last_year", metric.key) !== null)) continue;
        const unit = metric.key === "common_property_coefficient" ? "" : ` ${unitLabel(s.unit)}${metric.unitSuffix}`;
        const bars = months.map((m, i) => {
          const monthNo = Number(String(m.month).slice(-2)) || i + 1;
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
        cards.push(h("section", { class: "card" }, h("h2", { text: `${SERVICE_NAMES[s.service] || s.service}: ${metric.title}` }), chart, info, legend));
        queueMicrotask(() => {
          renderBarChart(chart, bars, { showPrevious: true, ariaLabel: metric.title, onSelect: (b) => { info.textContent = `${b.title}; ${b.prevTitle}`; } });
          renderLegend(legend, [{ cls: "zone-1", text: String(year) }, { cls: "prev", text: String(year - 1) }]);
        });
      }
    }
    box.replaceChildren(...(cards.length ? cards : [h("p", { class: "muted", text: "Нет данных общедомового прибора учёта за этот год." })]));
  }
  document.getElementById("prev-year").addEventListener("click", () => { year -= 1; load(); });
  document.getElementById("next-year").addEventListener("click", () => { year += 1; load(); });
  await load();
});
