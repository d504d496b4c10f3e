// A small SVG bar chart, hand-drawn on purpose: every bar is a DOM node (<g class="bar">) with a
// <title>, so it is inspectable, testable and readable by screen readers, and the whole chart is a
// few kilobytes with no third-party code. Supports stacked zone segments, estimated bars (hatched,
// dashed outline), gaps (missing data) and a comparison series drawn beside each bar.

import { h } from "./cabinet.js";

const NICE_STEPS = [1, 2, 2.5, 5, 10];

export function niceTicks(max, count = 5) {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = NICE_STEPS.map((s) => s * mag).find((s) => s >= raw) || 10 * mag;
  const ticks = [];
  for (let v = 0; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1] < max) ticks.push(Number((ticks[ticks.length - 1] + step).toPrecision(12)));
  return ticks;
}

export function formatTick(v) {
  const abs = Math.abs(v);
  const digits = abs === 0 || abs >= 10 ? 0 : abs >= 1 ? 1 : abs >= 0.1 ? 2 : 3;
  return v.toLocaleString("ru-RU", { maximumFractionDigits: digits });
}

/**
 * bars: [{label, title, value (number|null), quality, segments?: [{key, value}], prevValue?, prevTitle?}]
 * options: {zoneKeys: [...], showPrevious: bool, ariaLabel, onSelect(bar, index), markGaps: bool,
 *           unit: the value axis's unit, written above it ("кВт·ч", "₽", "м³/м²")}
 */
export function renderBarChart(container, bars, options = {}) {
  const draw = () => drawChart(container, bars, options);
  draw();
  if (container._mhObserver) container._mhObserver.disconnect();
  let lastWidth = container.clientWidth;
  let frame = 0;
  const observer = new ResizeObserver(() => {
    if (container.clientWidth === lastWidth) return;
    lastWidth = container.clientWidth;
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(draw);
  });
  observer.observe(container);
  container._mhObserver = observer;
}

function drawChart(container, bars, { zoneKeys = [], showPrevious = false, ariaLabel = "", onSelect, markGaps = true, unit = "" } = {}) {
  const width = Math.max(container.clientWidth || 720, 280);
  const height = width < 520 ? 230 : 290;
  const m = { top: unit ? 24 : 12, right: 8, bottom: 26, left: 46 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const n = bars.length;

  if (!n || bars.every((b) => b.value === null && !(showPrevious && b.prevValue))) {
    container.replaceChildren(h("p", { class: "chart-empty", text: "Нет данных за этот период" }));
    return;
  }

  const values = bars.flatMap((b) => [b.value, showPrevious ? b.prevValue : null]).filter((v) => v !== null && v !== undefined && Number.isFinite(v));
  const ticks = niceTicks(Math.max(0, ...values));
  const top = ticks[ticks.length - 1] || 1;
  const y = (v) => m.top + plotH - (Math.max(0, v) / top) * plotH;
  const slot = plotW / n;
  const barW = Math.max(1, slot * (showPrevious ? 0.4 : 0.72));
  const gap = (slot - (showPrevious ? 2 * barW : barW)) / 2;

  const svg = h("svg", {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: "img",
    "aria-label": ariaLabel,
    "data-bars": String(bars.filter((b) => b.value !== null).length),
  });
  svg.append(
    h("defs", {},
      h("pattern", { id: "mh-hatch", width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" },
        h("rect", { width: 6, height: 6, fill: "#ffffff", "fill-opacity": "0" }),
        h("line", { x1: 0, y1: 0, x2: 0, y2: 6, stroke: "#a35a00", "stroke-width": 2 }),
      ),
    ),
  );

  const axis = h("g", { class: "axis" });
  for (const t of ticks) {
    axis.append(
      h("line", { class: "grid-line", x1: m.left, x2: width - m.right, y1: y(t), y2: y(t) }),
      h("text", { x: m.left - 6, y: y(t) + 4, "text-anchor": "end", text: formatTick(t) }),
    );
  }
  axis.append(h("line", { class: "axis-line", x1: m.left, x2: width - m.right, y1: y(0), y2: y(0) }));
  if (unit) axis.append(h("text", { class: "axis-unit", x: 4, y: 12, "text-anchor": "start", text: unit }));
  svg.append(axis);

  const maxLabels = Math.max(2, Math.floor(plotW / 30));
  const labelStep = Math.ceil(n / maxLabels);
  const labels = h("g", { class: "labels" });
  const plot = h("g", { class: "bars" });
  let selected = null;

  bars.forEach((bar, i) => {
    const x0 = m.left + i * slot;
    if (i % labelStep === 0) {
      labels.append(h("text", { x: x0 + slot / 2, y: height - 8, "text-anchor": "middle", text: bar.label }));
    }
    if (showPrevious && bar.prevValue !== null && bar.prevValue !== undefined) {
      plot.append(
        h("rect", { class: "prev", x: x0 + gap, y: y(bar.prevValue), width: barW, height: Math.max(0, y(0) - y(bar.prevValue)), rx: 1 },
          h("title", { text: bar.prevTitle || "" })),
      );
    }
    const bx = x0 + gap + (showPrevious ? barW : 0);
    if (bar.value === null || bar.value === undefined) {
      if (!markGaps) return;
      plot.append(h("g", { class: "gap", "data-index": i },
        h("rect", { class: "gap-mark", x: bx + 1, y: y(0) - 6, width: Math.max(1, barW - 2), height: 6 }),
        h("title", { text: bar.title })));
      return;
    }
    const g = h("g", {
      class: `bar ${bar.quality || "measured"}`,
      "data-index": i,
      "data-quality": bar.quality || "measured",
      "data-value": String(bar.value),
      tabindex: 0,
      "aria-label": bar.title,
    });
    g.append(h("rect", { class: "hit", x: x0, y: m.top, width: slot, height: plotH, fill: "transparent" }));
    // Zone segments stacked bottom-up in the order of zoneKeys; a bar of one zone takes its colour.
    const segments = (bar.segments || []).filter((s) => s.value > 0);
    const segClass = (key) => `seg seg-${(Math.max(0, zoneKeys.indexOf(key)) % 4) + 1}`;
    if (segments.length > 1) {
      let base = 0;
      for (const s of segments) {
        g.append(h("rect", { class: segClass(s.key), "data-zone": s.key, x: bx, y: y(base + s.value), width: barW, height: Math.max(0, y(base) - y(base + s.value)) }));
        base += s.value;
      }
    } else {
      const only = segments[0];
      g.append(h("rect", { class: only ? segClass(only.key) : "seg seg-1", "data-zone": only ? only.key : null, x: bx, y: y(bar.value), width: barW, height: Math.max(0, y(0) - y(bar.value)), rx: 1 }));
    }
    if (bar.quality === "estimated" || bar.quality === "interpolated") {
      g.append(h("rect", { class: "hatch", x: bx, y: y(bar.value), width: barW, height: Math.max(0, y(0) - y(bar.value)) }));
    }
    g.append(h("title", { text: bar.title }));
    const select = () => {
      if (selected) selected.classList.remove("selected");
      selected = g;
      g.classList.add("selected");
      if (onSelect) onSelect(bar, i);
    };
    g.addEventListener("click", select);
    g.addEventListener("focus", select);
    g.addEventListener("keydown", (event) => {
      // ← → move between bars, Home / End jump to the first / last one
      const all = [...plot.querySelectorAll("g.bar")];
      const at = all.indexOf(g);
      const to = { ArrowLeft: at - 1, ArrowRight: at + 1, Home: 0, End: all.length - 1 }[event.key];
      if (to === undefined || !all[to]) return;
      event.preventDefault();
      all[to].focus();
    });
    plot.append(g);
  });
  svg.append(plot, labels);
  container.replaceChildren(svg);
}

// A legend line under a chart: [{cls, text}]
export function renderLegend(container, items) {
  container.replaceChildren(...items.map((it) => h("span", {}, h("span", { class: `swatch ${it.cls}` }), it.text)));
}
