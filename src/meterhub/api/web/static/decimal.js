// Exact decimal arithmetic and Russian number formatting for money and volumes.
// The API sends decimals as strings ("1234.56"); we never turn money into a float. Values are
// held as a BigInt of units of 10^-scale.

const NBSP = "\u00a0";

export function parseDecimal(text) {
  const s = String(text).trim();
  const m = /^([+-])?(\d*)(?:\.(\d*))?$/.exec(s);
  if (!m || (m[2] === "" && (m[3] === undefined || m[3] === ""))) {
    throw new Error(`not a decimal number: ${JSON.stringify(text)}`);
  }
  const frac = m[3] || "";
  const digits = BigInt((m[2] || "0") + frac);
  return { units: m[1] === "-" ? -digits : digits, scale: frac.length };
}

function rescale(d, scale) {
  return d.units * 10n ** BigInt(scale - d.scale);
}

export function addDecimals(values) {
  const parsed = values.filter((v) => v !== null && v !== undefined && v !== "").map(parseDecimal);
  const scale = Math.max(0, ...parsed.map((d) => d.scale));
  const units = parsed.reduce((acc, d) => acc + rescale(d, scale), 0n);
  return toText({ units, scale });
}

export function subtractDecimals(a, b) {
  const x = parseDecimal(a);
  const y = parseDecimal(b);
  const scale = Math.max(x.scale, y.scale);
  return toText({ units: rescale(x, scale) - rescale(y, scale), scale });
}

export function compareDecimals(a, b) {
  const d = parseDecimal(subtractDecimals(a, b));
  return d.units === 0n ? 0 : d.units > 0n ? 1 : -1;
}

function toText({ units, scale }) {
  const neg = units < 0n;
  let s = (neg ? -units : units).toString().padStart(scale + 1, "0");
  if (scale > 0) s = `${s.slice(0, -scale)}.${s.slice(-scale)}`;
  return (neg ? "-" : "") + s;
}

// Round half away from zero to `digits` decimals (the way a receipt rounds).
export function roundDecimal(text, digits) {
  const d = parseDecimal(text);
  if (d.scale <= digits) return toText({ units: rescale(d, digits), scale: digits });
  const drop = 10n ** BigInt(d.scale - digits);
  const abs = d.units < 0n ? -d.units : d.units;
  let q = abs / drop;
  if ((abs % drop) * 2n >= drop) q += 1n;
  return toText({ units: d.units < 0n ? -q : q, scale: digits });
}

// "1234567.5" -> "1 234 567,50" (NBSP thousands, comma decimal).
export function formatDecimal(text, { minFrac = 0, maxFrac = 2 } = {}) {
  let s = roundDecimal(text, maxFrac);
  let neg = false;
  if (s.startsWith("-")) {
    neg = true;
    s = s.slice(1);
  }
  let [int, frac = ""] = s.split(".");
  while (frac.length > minFrac && frac.endsWith("0")) frac = frac.slice(0, -1);
  int = int.replace(/\B(?=(\d{3})+(?!\d))/g, NBSP);
  const zero = /^[0\u00a0]*$/.test(int) && /^0*$/.test(frac);
  return (neg && !zero ? "−" : "") + int + (frac ? `,${frac}` : "");
}

export function formatRub(text) {
  return `${formatDecimal(text, { minFrac: 2, maxFrac: 2 })}${NBSP}₽`;
}

// For chart geometry only (pixels), never for displayed amounts.
export function toNumber(text) {
  return text === null || text === undefined ? null : Number(text);
}
