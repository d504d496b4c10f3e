// Reading submission (передача показаний): one form per meter, one field per register / tariff zone.
import { api, ApiError, dateLabel, dateTimeLabel, h, noAccountMessage, runPage, zoneLabel } from "../cabinet.js";
import { formatDecimal } from "../decimal.js";
import { loadMeters, meterTitle, meterUnit, unitLabel } from "../meters.js";

const METHOD_TEXT = {
  meter: "по показаниям прибора учёта",
  average: "по среднемесячному объёму (показания не учтены в этом периоде)",
  normative: "по нормативу потребления",
};

// The fields of a meter's form: the key the API expects in "values", a label and the last reading.
export function readingFields(meter) {
  const regs = meter.registers || meter.zones || [];
  if (!regs.length) return [{ key: "value", label: "Показание", unit: meterUnit(meter), latest: meter.latest_reading }];
  return regs.map((r) => {
    const key = r.key || r.zone || r.tariff_zone || r.register;
    return {
      key,
      label: r.label || r.name_ru || (regs.length > 1 ? `Зона ${zoneLabel(key)}` : "Показание"),
      unit: r.unit || meterUnit(meter),
      latest: r.latest || r.latest_reading || (r.latest_value !== undefined ? { value: r.latest_value, taken_at: r.latest_at } : null),
    };
  });
}

function meterCard(accountNo, meter) {
  const fields = readingFields(meter);
  const result = h("div", { class: "result", role: "status", "aria-live": "polite", hidden: true });
  const verification = meter.verification_due || meter.verification_date;
  const overdue = verification && String(verification) < new Date().toISOString().slice(0, 10);
  const form = h("form", { class: "stack", novalidate: true, "data-meter": meter.meter_id },
    h("div", { class: "zones" }, ...fields.map((f) => {
      const id = `r-${meter.meter_id}-${f.key}`.replace(/[^A-Za-z0-9_-]/g, "_");
      const prev = f.latest && f.latest.value !== undefined && f.latest.value !== null
        ? `Предыдущее: ${formatDecimal(String(f.latest.value), { maxFrac: 3 })} ${unitLabel(f.unit)}${f.latest.taken_at || f.latest.ts ? ` (${dateTimeLabel(f.latest.taken_at || f.latest.ts)})` : ""}`
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
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const answer = await api(`/accounts/${encodeURIComponent(accountNo)}/meters/${encodeURIComponent(meter.meter_id)}/readings`, {
        method: "POST",
        json: { values },
      });
      const warnings = answer.warnings || [];
      show(true, "Показания приняты.",
        answer.next_bill_method ? `Следующее начисление: ${METHOD_TEXT[answer.next_bill_method] || answer.next_bill_method}.` : null,
        warnings.map((w) => (typeof w === "string" ? w : w.message_ru || w.message || JSON.stringify(w))));
      for (const input of form.querySelectorAll("input[data-key]")) {
        input.nextElementSibling.textContent = `Передано: ${formatDecimal(values[input.dataset.key], { maxFrac: 6 })} ${unitLabel(meterUnit(meter))}`;
        input.value = "";
      }
    } catch (err) {
      show(false, err instanceof ApiError && err.status === 422 ? `Показания не приняты: ${err.message}` : err.message);
    } finally {
      button.disabled = false;
    }
  });

  function show(ok, title, line, list = []) {
    result.hidden = false;
    result.className = `result ${ok ? "ok" : "fail"}`;
    result.dataset.outcome = ok ? "accepted" : "rejected";
    result.replaceChildren(h("strong", { class: ok ? "success" : "error", text: title }), line ? h("div", { text: line }) : null,
      list.length ? h("ul", {}, ...list.map((w) => h("li", { text: w }))) : null);
  }

  return h("section", { class: "card meter-card", "data-meter": meter.meter_id },
    h("h2", { text: meterTitle(meter) }),
    h("p", { class: "meta" },
      verification ? `Поверка до ${dateLabel(verification)}` : "",
      overdue ? h("strong", { class: "error", text: " — срок поверки истёк" }) : ""),
    form);
}

runPage(async ({ current }) => {
  if (!current) return noAccountMessage();
  const meters = (await loadMeters(current.account_no)).filter((m) => !m.is_house_meter);
  const box = document.getElementById("meters");
  if (!meters.length) {
    box.replaceChildren(h("p", { class: "muted", text: "К лицевому счёту не подключены приборы учёта." }));
    return;
  }
  box.replaceChildren(...meters.map((m) => meterCard(current.account_no, m)));
});
