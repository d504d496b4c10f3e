// Calendar arithmetic of the consumption page, pure (no DOM, no clock): the range of a Day / Week /
// Month / Year view, moving back and forward, titles, and putting the API's points on the slots a
// period must have.
import { capitalize, dateLabel, MONTHS, MONTHS_GEN, MONTHS_SHORT, WEEKDAYS_SHORT } from "./cabinet.js";

export const RESOLUTION = { day: "hour", week: "day", month: "day", year: "month" };

// ---- dates (calendar dates as UTC midnights: no time zone or DST surprises) ----
export const parseDate = (s) => {
  const [y, m, d] = s.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d));
};
export const iso = (dt) => dt.toISOString().slice(0, 10);
export const addDays = (dt, n) => new Date(dt.getTime() + n * 86400000);
const addMonths = (dt, n) => new Date(Date.UTC(dt.getUTCFullYear(), dt.getUTCMonth() + n, 1));
const weekday = (dt) => (dt.getUTCDay() + 6) % 7; // 0 = Monday

export function periodRange(period, anchor) {
  const a = parseDate(anchor);
  if (period === "day") return { start: a, end: addDays(a, 1) };
  if (period === "week") {
    const monday = addDays(a, -weekday(a));
    return { start: monday, end: addDays(monday, 7) };
  }
  if (period === "month") {
    const first = new Date(Date.UTC(a.getUTCFullYear(), a.getUTCMonth(), 1));
    return { start: first, end: addMonths(first, 1) };
  }
  const jan = new Date(Date.UTC(a.getUTCFullYear(), 0, 1));
  return { start: jan, end: new Date(Date.UTC(a.getUTCFullYear() + 1, 0, 1)) };
}

export function shiftAnchor(period, anchor, dir) {
  const a = parseDate(anchor);
  if (period === "day") return iso(addDays(a, dir));
  if (period === "week") return iso(addDays(a, 7 * dir));
  if (period === "month") return iso(addMonths(a, dir));
  return iso(new Date(Date.UTC(a.getUTCFullYear() + dir, 0, 1)));
}

export function periodTitle(period, { start, end }) {
  const y = start.getUTCFullYear();
  if (period === "day") return `${start.getUTCDate()} ${MONTHS_GEN[start.getUTCMonth()]} ${y}`;
  if (period === "week") {
    const last = addDays(end, -1);
    const sameMonth = last.getUTCMonth() === start.getUTCMonth();
    return sameMonth
      ? `${start.getUTCDate()}–${last.getUTCDate()} ${MONTHS_GEN[start.getUTCMonth()]} ${y}`
      : last.getUTCFullYear() === y
        ? `${start.getUTCDate()} ${MONTHS_GEN[start.getUTCMonth()]} – ${dateLabel(iso(last))}`
        : `${dateLabel(iso(start))} – ${dateLabel(iso(last))}`;
  }
  if (period === "month") return `${capitalize(MONTHS[start.getUTCMonth()])} ${y}`;
  return `${y} год`;
}

// ---- slots: the bars a period must have, keyed like the API's local ISO "start" ----
export function expectedSlots(period, { start, end }) {
  const slots = [];
  if (period === "day") {
    for (let hr = 0; hr < 24; hr++) slots.push(`${iso(start)}T${String(hr).padStart(2, "0")}`);
  } else if (period === "year") {
    for (let m = 0; m < 12; m++) slots.push(`${start.getUTCFullYear()}-${String(m + 1).padStart(2, "0")}`);
  } else {
    for (let d = start; d < end; d = addDays(d, 1)) slots.push(iso(d));
  }
  return slots;
}
const keyLength = { day: 13, week: 10, month: 10, year: 7 };

// Puts the API's points on the expected slots (a slot the API left out is a gap). If the API's
// points do not fit the slots (a DST day with 23 or 25 hours), its own order is used.
export function alignPoints(period, range, points) {
  const slots = expectedSlots(period, range);
  const len = keyLength[period];
  const byKey = new Map(points.map((p) => [String(p.start).slice(0, len), p]));
  const fits = byKey.size === points.length && points.every((p) => slots.includes(String(p.start).slice(0, len)));
  if (!fits) return points;
  return slots.map((k) => byKey.get(k) || { start: k, value: null, quality: "missing", zones: {} });
}

// The comparison series is matched by position in the period (same hour / day of month / month).
export function alignPrevious(period, current, previous) {
  if (!previous || !previous.length) return current.map(() => null);
  const len = keyLength[period];
  const rel = (p) => String(p.start).slice(5, len);
  const byRel = new Map(previous.map((p) => [rel(p), p]));
  const matched = current.map((p) => byRel.get(rel(p)) || null);
  if (matched.filter(Boolean).length >= Math.min(current.length, previous.length) / 2) return matched;
  return current.map((_, i) => previous[i] || null);
}

export function slotLabel(period, start) {
  const s = String(start);
  if (period === "day") return s.slice(11, 13);
  if (period === "year") return MONTHS_SHORT[Number(s.slice(5, 7)) - 1];
  const d = parseDate(s.slice(0, 10));
  if (period === "week") return `${WEEKDAYS_SHORT[weekday(d)]} ${d.getUTCDate()}`;
  return String(d.getUTCDate());
}

export function slotTitle(period, start) {
  const s = String(start);
  if (period === "day") {
    const hr = Number(s.slice(11, 13));
    return `${dateLabel(s)}, ${String(hr).padStart(2, "0")}:00–${String((hr + 1) % 24).padStart(2, "0")}:00`;
  }
  if (period === "year") return `${capitalize(MONTHS[Number(s.slice(5, 7)) - 1])} ${s.slice(0, 4)}`;
  return dateLabel(s);
}
