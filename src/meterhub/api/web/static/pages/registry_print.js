// Printing: the form filled from the register as editable fields, then the PDF with the edits.
import { api, fill, h, runPage, showStatus } from "../cabinet.js";
import { FORMS, postForBlob } from "../registry.js";

function request() {
  const p = new URLSearchParams(location.search);
  const body = { kind: p.get("kind") || "form10" };
  for (const key of ["building_id", "premise_no", "first", "last"]) if (p.get(key)) body[key] = p.get(key);
  for (const key of ["arrival_id", "person_id"]) if (p.get(key)) body[key] = Number(p.get(key));
  return body;
}

runPage(async () => {
  const base = request();
  document.getElementById("page-title").textContent = FORMS[base.kind] || "Печать";
  const doc = await api("/registry/forms/fields", { method: "POST", json: base });
  fill(document.getElementById("print-fields"), ...doc.fields.flatMap((f) => [
    h("label", { for: `f-${f.key}`, text: f.label }),
    h("input", { id: `f-${f.key}`, name: f.key, value: f.value, "data-original": f.value }),
  ]));
  if (doc.table && doc.table.rows.length) {
    fill(document.getElementById("print-table"), h("table", { class: "grid" },
      h("thead", {}, h("tr", {}, ...doc.table.headers.map((t) => h("th", { text: t })))),
      h("tbody", {}, ...doc.table.rows.map((r) => h("tr", {}, ...r.map((c) => h("td", { text: c })))))));
  }
  const form = document.getElementById("print-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const fields = {};
    for (const input of form.querySelectorAll("#print-fields input")) {
      if (input.value !== input.dataset.original) fields[input.name] = input.value;
    }
    try {
      const blob = await postForBlob("/registry/forms/pdf", { ...base, fields });
      const url = URL.createObjectURL(blob);
      const link = h("a", { href: url, download: `${base.kind}.pdf`, id: "pdf-link", text: "Открыть PDF" });
      fill(document.getElementById("page-status"), link);
      document.getElementById("page-status").hidden = false;
      link.click();
    } catch (err) {
      showStatus(err.message, "error");
    }
  });
}, { accounts: false });
