// Reading submission (передача показаний): one form per meter, one field per register / tariff zone.
import { api, ApiError, dateLabel, dateTimeLabel, fill, h, noAccountMessage, periodLabel, runPage, zoneLabel } from "../cabinet.js";
import { formatDecimal } from "../decimal.js";
import { loadMeters, meterTitle, meterUnit, unitLabel } from "../meters.js";

const METHOD_TEXT = {
  meter: "по показаниям прибора учёта",
  average: "по среднемесячному объёму (показания не учтены в этом периоде)",
  normative: "по нормативу потребления",
};

// The fields of a meter's form: the register label the API expects in "values" (T, or T1/T2/T3 for the
// zones of a multi-zone meter), a caption and the latest stored value.
export function readingFields(meter) {
  const regs = meter.registers || [];
  return regs.map((r) => ({
    key: r.label,
    label: regs.length > 1 || r.zone ? `${r.label}${r.zone ? ` — ${zoneLabel(r.zone).toLowerCase()}` : ""}` : "Показание",
    unit: r.unit || meterUnit(meter),
    latest: r.latest_value !== null && r.latest_value !== undefined ? { value: r.latest_value, taken_at: r.latest_at, source: r.latest_source } : null,
  }));
}

const SOURCE_TEXT = { gateway: "автоматически", manual: "передано вручную", import: "из реестра", estimate: "расчётное" };
const VERIFICATION_TEXT = { due_soon: "скоро истекает срок поверки", expired: "срок поверки истёк" };
const message = (m) => (typeof m === "string" ? m : m.ru || m.message_ru || m.en || m.message || JSON.stringify(m));

function meterCard(accountNo, meter) {
  const fields = readingFields(meter);
  const result = h("div", { class: "result", role: "status", "aria-live": "polite", hidden: true });
  const verification = meter.verification_due;
  const verificationNote = VERIFICATION_TEXT[meter.verification_status];
  const form = h("form", { class: "stack", novalidate: true, "data-meter": meter.meter_id },
    h("div", { class: "zones" }, ...fields.map((f) => {
      const id = `r-${meter.meter_id}-${f.key}`.replace(/[^A-Za-z0-9_-]/g, "_");
      const prev = f.latest && f.latest.value !== undefined && f.latest.value !== null
        ? `Предыдущее: ${formatDecimal(String(f.latest.value), { maxFrac: 3 })}\u00a0${unitLabel(f.unit)}${f.latest.taken_at ? `, ${dateTimeLabel(f.latest.taken_at)}` : ""}${SOURCE_TEXT[f.latest.source] ? ` (${SOURCE_TEXT[f.latest.source]})` : ""}`
        : "Предыдущих показаний нет";
      return h("div", { class: "zone-input stack" },
        h("label", { for: id, text: `${f.label}, ${unitLabel(f.unit)}` }),
        h("input", { id, name: f.key, inputmode: "decimal", autocomplete: "off", required: true, pattern: "[0-9]+([.,][0-9]{1,6})?", "data-key": f.key }),
        h("span", { class: "prev-value", text: prev }));
    })),
    h("button", { type: "submit", class: "primary", text: "Передать показания" }),
    result);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = {};
    for (const input of form.querySelectorAll("input[data-key]")) {
      const v = input.value.trim().replace(",", ".").replace(/\s/g, "");
      if (!/^\d+(\.\d{1,6})?$/.test(v)) {
        show(false, `Введите показание «${input.labels[0].textContent}» числом, например 1234,5.`);
        input.focus();
        return;
      }
      values[input.dataset.key] = v;
    }
    await send(values, false);
  });

  async function send(values, confirm) {
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const answer = await api(`/accounts/${encodeURIComponent(accountNo)}/meters/${encodeURIComponent(meter.meter_id)}/readings`, {
        method: "POST",
        json: confirm ? { values, confirm: true } : { values },
      });
      const entries = Object.entries(answer.consumption || {});
      const consumed = entries.map(([k, v]) => `${entries.length > 1 ? `${k}: ` : ""}${formatDecimal(v, { maxFrac: 3 })}\u00a0${unitLabel(meterUnit(meter))}`);
      show(true, "Показания приняты.",
        [
          answer.counts_for ? `Учитываются за ${periodLabel(answer.counts_for).toLowerCase()}.` : null,
          consumed.length ? `Расход с прошлых показаний — ${consumed.join(", ")}.` : null,
          answer.next_bill_method ? `Следующее начисление${answer.next_bill_period ? ` (${periodLabel(answer.next_bill_period).toLowerCase()})` : ""}: ${METHOD_TEXT[answer.next_bill_method] || answer.next_bill_method}.` : null,
        ].filter(Boolean).join(" "),
        (answer.warnings || []).map(message));
      for (const input of form.querySelectorAll("input[data-key]")) {
        input.nextElementSibling.textContent = `Передано: ${formatDecimal(values[input.dataset.key], { maxFrac: 6 })}\u00a0${unitLabel(meterUnit(meter))}`;
        input.value = "";
      }
    } catch (err) {
      const detail = err instanceof ApiError ? err.detail : null;
      const errors = detail && Array.isArray(detail.errors) ? detail.errors : [];
      if (err instanceof ApiError && err.status === 422 && errors.length) {
        const needsConfirm = errors.every((e) => e.code === "unusually_high");
        show(false, needsConfirm ? "Проверьте показания" : "Показания не приняты", null, errors.map(message));
        if (needsConfirm) {
          result.append(h("button", { type: "button", class: "primary", text: "Да, показания верные — передать", onclick: () => send(values, true) }));
        }
      } else {
        show(false, err instanceof ApiError && err.status === 422 ? `Показания не приняты: ${err.message}` : err.message);
      }
    } finally {
      button.disabled = false;
    }
  }

  function show(ok, title, line, list = []) {
    result.hidden = false;
    result.className = `result ${ok ? "ok" : "fail"}`;
    result.dataset.outcome = ok ? "accepted" : "rejected";
    fill(result, ...[
      h("strong", { class: ok ? "success" : "error", text: title }),
      line ? h("div", { text: line }) : null,
      list.length ? h("ul", {}, ...list.map((w) => h("li", { text: w }))) : null,
    ].filter(Boolean));
  }

  return h("section", { class: "card meter-card", "data-meter": meter.meter_id },
    h("h2", { text: meterTitle(meter) }),
    h("p", { class: "meta" },
      verification ? `Поверка до ${dateLabel(verification)}` : "Дата поверки не указана",
      verificationNote ? h("strong", { class: meter.verification_status === "expired" ? "error" : "", text: ` — ${verificationNote}` }) : "",
      meter.submission_window_last_day ? h("br") : null,
      meter.submission_window_last_day ? `Показания, переданные до ${meter.submission_window_last_day}-го числа, учитываются в текущем месяце.` : null),
    meter.accepts_readings === false
      ? h("p", { class: "note", text: meter.verification_status === "expired"
        ? "Показания не принимаются, пока счётчик не поверен или не заменён; до тех пор начисление — по среднему, затем по нормативу."
        : "По этому прибору показания через кабинет не принимаются." })
      : form);
}

runPage(async ({ current }) => {
  if (!current) return noAccountMessage();
  const meters = await loadMeters(current.account_no);
  const box = document.getElementById("meters");
  if (!meters.length) {
    fill(box, h("p", { class: "muted", text: "К лицевому счёту не подключены приборы учёта." }));
    return;
  }
  fill(box, ...meters.map((m) => meterCard(current.account_no, m)));
});
