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

export function meterTitle(m) {
  const service = SERVICE_NAMES[meterService(m)] || meterService(m) || "Прибор учёта";
  const serial = m.serial ? ` № ${m.serial}` : ` ${m.meter_id}`;
  return `${service}${serial}${m.model ? ` (${m.model})` : ""}`;
}

export const volumeDigits = (unit) => (unit === "m3" || unit === "Gcal" ? 3 : 2);
export { unitLabel };
