// Consumption page: Day (hourly) / Week / Month / Year, back/forward, volume ↔ ₽, comparison with the
// same period a year earlier, estimated values hatched, zone breakdown. State lives in the URL, so a
// view can be bookmarked and the browser's back button works.
import { api, fill, h, noAccountMessage, QUALITY_NAMES, runPage, zoneLabel } from "../cabinet.js";
import { renderBarChart, renderLegend } from "../chart.js";
import { addDecimals, formatDecimal, formatRub, toNumber } from "../decimal.js";
import { loadMeters, meterTitle, meterUnit, unitLabel, volumeDigits } from "../meters.js";
import {
  addDays, alignPoints, alignPrevious, iso, parseDate, periodRange, periodTitle, RESOLUTION, shiftAnchor, slotLabel, slotTitle,
} from "../periods.js";

const ZONE_ORDER = ["peak", "semi_peak", "day", "night", "T1", "T2", "T3", "T4"];
// How the like-for-like comparison names the slots it compares.
const SLOT_WORDS = {
  day: { many: "часы", some: "часы" },
  week: { many: "дни", some: "дни" },
  month: { many: "дни", some: "дни" },
  year: { many: "месяцы", some: "месяцы" },
};

// ---- state in the URL ----
function readState(meters) {
  const p = new URLSearchParams(location.search);
  const period = RESOLUTION[p.get("period")] ? p.get("period") : "day";
  const meter = meters.find((m) => m.meter_id === p.get("meter")) || meters[0];
  const yesterday = iso(addDays(parseDate(new Date().toISOString().slice(0, 10)), -1));
  const latest = meter && (meter.registers || []).map((r) => r.latest_at).filter(Boolean).sort().pop();
  const date = /^\d{4}-\d{2}-\d{2}$/.test(p.get("date") || "") ? p.get("date") : latest ? String(latest).slice(0, 10) : yesterday;
  return { meter, period, date, unit: p.get("unit") === "rub" ? "rub" : "volume", compare: p.get("compare") === "1" };
}

function writeState(state) {
  const p = new URLSearchParams(location.search);
  p.set("meter", state.meter.meter_id);
  p.set("period", state.period);
  p.set("date", state.date);
  p.set("unit", state.unit);
  if (state.compare) p.set("compare", "1");
  else p.delete("compare");
  history.replaceState(null, "", `${location.pathname}?${p}`);
}

// ---- page ----
runPage(async ({ current }) => {
  if (!current) return noAccountMessage();
  const accountNo = current.account_no;
  const meters = await loadMeters(accountNo);
  if (!meters.length) {
    fill(document.getElementById("chart"), h("p", { class: "chart-empty", text: "К лицевому счёту не подключены приборы учёта" }));
    return;
  }
  const state = readState(meters);
  const select = document.getElementById("meter-select");
  fill(select, ...meters.map((m) => h("option", { value: m.meter_id, text: meterTitle(m), selected: m === state.meter })));
  select.addEventListener("change", () => {
    state.meter = meters.find((m) => m.meter_id === select.value);
    load();
  });
  for (const b of document.querySelectorAll("#period-switch button")) {
    b.addEventListener("click", () => {
      state.period = b.dataset.period;
      load();
    });
  }
  for (const b of document.querySelectorAll("#unit-switch button")) {
    b.addEventListener("click", () => {
      state.unit = b.dataset.unit;
      load();
    });
  }
  const compare = document.getElementById("compare");
  compare.checked = state.compare;
  compare.addEventListener("change", () => {
    state.compare = compare.checked;
    load();
  });
  document.getElementById("prev-period").addEventListener("click", () => {
    state.date = shiftAnchor(state.period, state.date, -1);
    load();
  });
  document.getElementById("next-period").addEventListener("click", () => {
    state.date = shiftAnchor(state.period, state.date, 1);
    load();
  });

  let generation = 0;
  async function load() {
    const mine = ++generation;
    writeState(state);
    for (const b of document.querySelectorAll("#period-switch button")) b.setAttribute("aria-pressed", String(b.dataset.period === state.period));
    for (const b of document.querySelectorAll("#unit-switch button")) b.setAttribute("aria-pressed", String(b.dataset.unit === state.unit));
    const range = periodRange(state.period, state.date);
    document.getElementById("period-title").textContent = periodTitle(state.period, range);
    const chart = document.getElementById("chart");
    chart.dataset.loading = "true";
    const q = new URLSearchParams({ start: iso(range.start), end: iso(range.end), resolution: RESOLUTION[state.period], unit: state.unit });
    if (state.compare) q.set("compare", "last_year");
    const url = () => `/accounts/${encodeURIComponent(accountNo)}/meters/${encodeURIComponent(state.meter.meter_id)}/consumption?${q}`;
    try {
      const data = await api(url());
      if (mine !== generation) return;
      render(data, range);
      // ₽ a year back needs last year's tariff; without it the API sends this period alone and says why.
      if (state.compare && data.previous_unavailable_ru) document.getElementById("previous-total").textContent = data.previous_unavailable_ru;
    } catch (err) {
      if (mine !== generation) return;
      clearResults();
      fill(chart, h("p", { class: "chart-empty error", text: `Не удалось загрузить данные: ${err.message}` }));
    } finally {
      if (mine === generation) {
        chart.dataset.loading = "false";
        chart.dataset.period = state.period;
        chart.dataset.unit = state.unit;
      }
    }
  }

  function clearResults() {
    for (const id of ["total", "previous-total", "chart-info"]) document.getElementById(id).textContent = "";
    fill(document.getElementById("legend"));
    document.getElementById("quality-note").hidden = true;
    document.getElementById("zones-card").hidden = true;
    fill(document.querySelector("#points-table thead"));
    fill(document.querySelector("#points-table tbody"));
  }

  function render(data, range) {
    const unit = state.unit === "rub" ? "rub" : meterUnit(state.meter);
    const fmt = (v) => (v === null || v === undefined ? "—" : state.unit === "rub" ? formatRub(String(v)) : `${formatDecimal(String(v), { maxFrac: volumeDigits(unit) })}\u00a0${unitLabel(unit)}`);
    const points = alignPoints(state.period, range, data.points || []);
    const previousPoints = state.compare && data.previous ? alignPrevious(state.period, points, data.previous.points || []) : points.map(() => null);
    const zoneKeys = ZONE_ORDER.filter((z) => points.some((p) => p.zones && p.zones[z] !== undefined && p.zones[z] !== null));
    for (const p of points) for (const z of Object.keys(p.zones || {})) if (!zoneKeys.includes(z)) zoneKeys.push(z);

    const bars = points.map((p, i) => {
      const value = p.value === null || p.value === undefined || p.quality === "missing" ? null : toNumber(p.value);
      const prev = previousPoints[i];
      const quality = p.quality || "measured";
      const note = quality !== "measured" ? ` (${QUALITY_NAMES[quality] || quality})` : "";
      const zones = zoneKeys.filter((z) => p.zones && p.zones[z] !== undefined && p.zones[z] !== null);
      const nonZero = zones.filter((z) => Number(p.zones[z]) !== 0);
      const zoneText = nonZero.length > 1 ? ` — ${nonZero.map((z) => `${zoneLabel(z)}: ${fmt(p.zones[z])}`).join(", ")}`
        : nonZero.length === 1 && zoneKeys.length > 1 ? ` (${zoneLabel(nonZero[0]).toLowerCase()})` : "";
      return {
        label: slotLabel(state.period, p.start),
        title: `${slotTitle(state.period, p.start)}: ${fmt(value === null ? null : p.value)}${note}${zoneText}`,
        value,
        quality: value === null ? "missing" : quality,
        segments: zones.map((z) => ({ key: z, value: toNumber(p.zones[z]) })),
        prevValue: prev && prev.value !== null && prev.value !== undefined ? toNumber(prev.value) : null,
        prevTitle: prev ? `${slotTitle(state.period, prev.start)}: ${fmt(prev.value)}` : "",
      };
    });
    const info = document.getElementById("chart-info");
    info.textContent = bars.some((b) => b.value !== null) ? "Нажмите на столбец, чтобы увидеть значение" : "";
    renderBarChart(document.getElementById("chart"), bars, {
      zoneKeys,
      showPrevious: state.compare && Boolean(data.previous),
      unit: state.unit === "rub" ? "₽" : unitLabel(unit),
      ariaLabel: `${meterTitle(state.meter)}: ${document.getElementById("period-title").textContent}`,
      onSelect: (bar) => {
        info.textContent = bar.prevTitle && state.compare ? `${bar.title}; год назад ${bar.prevTitle}` : bar.title;
      },
    });

    const legend = [];
    if (zoneKeys.length > 1) zoneKeys.forEach((z, i) => legend.push({ cls: `zone-${(i % 4) + 1}`, text: zoneLabel(z) }));
    if (points.some((p) => p.quality === "estimated" || p.quality === "interpolated")) legend.push({ cls: "est", text: "оценка / восстановлено" });
    if (points.some((p) => p.value === null || p.quality === "missing")) legend.push({ cls: "gap", text: "нет данных" });
    if (state.compare && data.previous) legend.push({ cls: "prev", text: "те же даты год назад (сравниваются одинаковые периоды)" });
    renderLegend(document.getElementById("legend"), legend);

    // totals
    const total = data.total ?? addDecimals(points.map((p) => p.value));
    document.getElementById("total").textContent = fmt(total);
    const prevBox = document.getElementById("previous-total");
    if (state.compare && data.previous) {
      // Like for like: only the slots (hours, days, months) that have data in both years are compared.
      const has = (p) => p && p.value !== null && p.value !== undefined && p.quality !== "missing";
      const pairs = points.map((p, i) => [p, previousPoints[i]]).filter(([p, q]) => has(p) && has(q));
      const words = SLOT_WORDS[state.period];
      prevBox.dataset.compared = String(pairs.length);
      prevBox.dataset.slots = String(points.length);
      if (!pairs.length) {
        prevBox.textContent = `Год назад за эти ${words.many} нет данных — сравнивать не с чем.`;
      } else {
        const cur = addDecimals(pairs.map(([p]) => p.value));
        const prev = addDecimals(pairs.map(([, q]) => q.value));
        const b = toNumber(prev);
        const change = b > 0 ? Math.round(((toNumber(cur) - b) / b) * 100) : null;
        const pct = change === null ? "" : ` (${change > 0 ? "+" : change < 0 ? "−" : "±"}${Math.abs(change)} %)`;
        const scope = pairs.length === points.length
          ? `Год назад за те же ${words.many}`
          : `Сравнение только за ${words.some} с данными в обоих годах (${pairs.length} из ${points.length}): сейчас ${fmt(cur)}, год назад`;
        prevBox.textContent = `${scope}: ${fmt(prev)}${pct}`;
      }
    } else {
      prevBox.textContent = "";
      delete prevBox.dataset.compared;
    }
    const estimated = points.filter((p) => p.quality === "estimated" || p.quality === "interpolated").length;
    const missing = points.filter((p) => p.value === null || p.quality === "missing").length;
    const qn = document.getElementById("quality-note");
    const notes = [];
    if (estimated) notes.push(`${estimated} из ${points.length} значений рассчитаны, а не измерены (заштрихованы): прибор не передал данные вовремя.`);
    if (missing) notes.push(`За ${missing} из ${points.length} интервалов данных нет.`);
    qn.textContent = notes.join(" ");
    qn.hidden = !notes.length;

    // zones
    const zonesCard = document.getElementById("zones-card");
    const tbody = document.querySelector("#zones-table tbody");
    if (zoneKeys.length > 1) {
      const sums = zoneKeys.map((z) => addDecimals(points.map((p) => (p.zones ? p.zones[z] : null))));
      const all = toNumber(addDecimals(sums)) || 0;
      fill(tbody, ...zoneKeys.map((z, i) => h("tr", { "data-zone": z },
        h("td", {}, h("span", { class: `swatch zone-${(i % 4) + 1}` }), " ", zoneLabel(z)),
        h("td", { class: "num", text: fmt(sums[i]) }),
        h("td", { class: "num", text: all > 0 ? `${Math.round((toNumber(sums[i]) / all) * 100)} %` : "—" }))));
      zonesCard.hidden = false;
    } else {
      zonesCard.hidden = true;
    }

    // table
    const thead = document.querySelector("#points-table thead");
    const body = document.querySelector("#points-table tbody");
    fill(thead, h("tr", {}, h("th", { text: "Интервал" }), h("th", { class: "num", text: "Значение" }), h("th", { text: "Качество" }),
      state.compare && data.previous ? h("th", { class: "num", text: "Год назад" }) : null));
    fill(body, ...points.map((p, i) => h("tr", { class: p.quality === "estimated" || p.quality === "interpolated" ? "estimated" : "" },
      h("td", { text: slotTitle(state.period, p.start) }),
      h("td", { class: "num", text: p.quality === "missing" ? "—" : fmt(p.value) }),
      h("td", { text: QUALITY_NAMES[p.quality || "measured"] || p.quality }),
      state.compare && data.previous ? h("td", { class: "num", text: previousPoints[i] ? fmt(previousPoints[i].value) : "—" }) : null)));
  }

  await load();
});
