// Meter helpers shared by the consumption and readings pages.
import { api, SERVICE_NAMES, unitLabel } from "./cabinet.js";

export async function loadMeters(accountNo) {
  const data = await api(`/accounts/${encodeURIComponent(accountNo)}/meters`);
  return Array.isArray(data) ? data : data.meters || data.items || [];
}

export const meterService = (m) => m.service || m.kind || "";

export function meterUnit(m) {
  if (m.unit) return m.unit;
  const regs = m.registers || [];
  return (regs[0] && regs[0].unit) || { electricity: "kWh", cold_water: "m3", hot_water: "m3", heat: "Gcal" }[meterService(m)] || "";
}

// «Электроэнергия № 2, двухтарифный»: the service in Russian, the serial, and the tariff type from the
// registers. A device model string from a profile («two-tariff 5(60) A») is technical English: it is shown
// only when it is Russian text (a model name entered by the management company).
export function meterTitle(m) {
  const service = SERVICE_NAMES[meterService(m)] || meterService(m) || "Прибор учёта";
  const serial = m.serial ? ` № ${m.serial}` : ` ${m.meter_id}`;
  const zones = (m.registers || []).filter((r) => /_t\d/.test(r.register || "")).length;
  const kind = m.multi_zone ? (zones === 2 ? ", двухтарифный" : zones === 3 ? ", трёхтарифный" : ", многотарифный") : "";
  const model = m.model && /[а-яё]/i.test(m.model) ? ` (${m.model})` : "";
  return `${service}${serial}${kind}${model}`;
}

// Display precision per unit, as on the receipt: m³ to the litre, kWh 2 decimals, Gcal 4.
export const volumeDigits = (unit) => (unit === "m3" ? 3 : unit === "Gcal" ? 4 : 2);
export { unitLabel };
