// Passport office: find a person or open a premise (current residents, the archive, deregistration).
import { API, api, fill, h, runPage, showStatus } from "../cabinet.js";
import { KINDS, REASONS, REGISTRY, formValues, lastDay, printUrl, ruDate } from "../registry.js";

function personLink(id, name) {
  return h("a", { href: `${REGISTRY}/person?id=${id}`, text: name });
}

async function openPremise(building, premise) {
  const data = await api(`/registry/premise?${new URLSearchParams({ building_id: building, premise_no: premise })}`);
  document.getElementById("premise-view").hidden = false;
  document.getElementById("premise-address").textContent = `${data.address}, площадь ${data.area} м²`;
  document.getElementById("premise-owners").textContent = data.owners.length ? `Собственники: ${data.owners.join("; ")}` : "Собственники не внесены";
  document.getElementById("register-here").href = `${REGISTRY}/arrival?${new URLSearchParams({ building_id: building, premise_no: premise })}`;
  document.getElementById("print-form10").href = printUrl({ kind: "form10", building_id: building, premise_no: premise });
  document.getElementById("print-family").href = printUrl({ kind: "family", building_id: building, premise_no: premise });
  await showOwners(building, premise);
  const current = data.residents.filter((r) => r.current);
  const former = data.residents.filter((r) => !r.current);
  fill(document.getElementById("current-residents"), ...current.map((r) =>
    h("tr", { "data-arrival": r.arrival_id },
      h("td", {}, personLink(r.person_id, r.full_name)), h("td", { text: ruDate(r.birth_date) }),
      h("td", { text: KINDS[r.kind] }), h("td", { text: ruDate(r.start) }), h("td", { text: r.end ? lastDay(r.end) : "" }),
      h("td", { text: r.relation_to_head }),
      h("td", {}, h("button", { type: "button", class: "deregister", text: "Снять с учёта",
        onclick: () => askDeregistration(r, () => openPremise(building, premise)) })))));
  fill(document.getElementById("former-residents"), ...former.map((r) =>
    h("tr", {},
      h("td", {}, personLink(r.person_id, r.full_name)), h("td", { text: KINDS[r.kind] }), h("td", { text: ruDate(r.start) }),
      h("td", { text: ruDate(r.end) }), h("td", { text: REASONS[r.end_reason] || (r.end_reason ? r.end_reason : "срок истёк") }),
      h("td", { text: r.moved_to || "" }))));
  if (!current.length && !former.length) showStatus("В помещении никто не зарегистрирован.", "info");
  else showStatus("");
}

function orgText(o) {
  const ids = [o.organization_inn ? `ИНН ${o.organization_inn}` : "ИНН не указан", o.organization_ogrn ? `ОГРН ${o.organization_ogrn}` : ""];
  return `${o.name} (${ids.filter(Boolean).join(", ")}${o.organization_address ? `; ${o.organization_address}` : ""})`;
}

async function showOwners(building, premise) {
  const owners = await api(`/registry/owners?${new URLSearchParams({ building_id: building, premise_no: premise })}`);
  fill(document.getElementById("owners"), ...owners.map((o) => h("tr", { class: o.lost_on ? "muted" : "" },
    h("td", {}, o.person_id ? personLink(o.person_id, o.name) : orgText(o)),
    h("td", { text: `${o.share_numerator}/${o.share_denominator}${o.joint_group ? ` (совместная собственность № ${o.joint_group})` : ""}` }), h("td", { text: ruDate(o.acquired_on) }),
    h("td", { text: o.lost_on ? lastDay(o.lost_on) : "" }),
    h("td", { text: [o.title_type, o.title_number ? `№ ${o.title_number}` : "", o.title_date ? `от ${ruDate(o.title_date)}` : "", o.registry_entry ? `ЕГРН ${o.registry_entry}` : ""].filter(Boolean).join(" ") }),
    h("td", {}, o.has_scan ? h("a", { href: `${API}/registry/owners/${o.ownership_id}/scan`, target: "_blank", rel: "noopener", text: o.scan_name || "скан" }) : ""),
    h("td", {}, o.person_id || o.lost_on ? "" : h("button", { type: "button", text: "Реквизиты организации", onclick: async () => {
      const inn = prompt("ИНН организации (10 цифр)", o.organization_inn || "");
      if (inn === null) return;
      const ogrn = prompt("ОГРН (13 цифр)", o.organization_ogrn || "");
      if (ogrn === null) return;
      const address = prompt("Адрес юридического лица", o.organization_address || "");
      if (address === null) return;
      try {
        await api(`/registry/owners/${o.ownership_id}/organization`, { method: "PUT", json: { inn, ogrn, address } });
        await showOwners(building, premise);
      } catch (err) {
        showStatus(err.message, "error");
      }
    } }), o.lost_on ? "" : h("button", { type: "button", text: "Прекратить право", onclick: async () => {
      const day = prompt("Дата прекращения права (ГГГГ-ММ-ДД)");
      if (!day) return;
      try {
        await api(`/registry/owners/${o.ownership_id}/end`, { method: "POST", json: { lost_on: day } });
        await showOwners(building, premise);
      } catch (err) {
        showStatus(err.message, "error");
      }
    } })))));
}

function wireOwnerForm() {
  const form = document.getElementById("owner-form");
  const error = document.getElementById("owner-error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const building = document.getElementById("building").value.trim();
    const premise = document.getElementById("premise").value.trim();
    const data = new FormData(form);
    for (const [k, v] of [...data.entries()]) if (v === "" || (v instanceof File && !v.name)) data.delete(k);
    data.set("building_id", building);
    data.set("premise_no", premise);
    try {
      await api("/registry/owners", { method: "POST", form: data });
      form.reset();
      error.hidden = true;
      await showOwners(building, premise);
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    }
  });
}

function askDeregistration(resident, done) {
  const dialog = document.getElementById("deregister-dialog");
  const form = document.getElementById("deregister-form");
  const error = document.getElementById("deregister-error");
  document.getElementById("deregister-who").textContent = `${resident.full_name}, ${KINDS[resident.kind]} с ${ruDate(resident.start)}`;
  form.reset();
  error.hidden = true;
  const onSubmit = async (event) => {
    event.preventDefault();
    const v = formValues(form);
    try {
      await api(`/registry/events/${resident.arrival_id}/deregistration`, {
        method: "POST",
        json: { date: v.date, reason: v.reason, moved_to: v.moved_to || "", basis: { type: v.basis_type || "", number: v.basis_number || "" } },
      });
      dialog.close();
      form.removeEventListener("submit", onSubmit);
      showStatus(`${resident.full_name} снят(а) с регистрационного учёта.`, "ok");
      await done();
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    }
  };
  form.addEventListener("submit", onSubmit);
  document.getElementById("deregister-cancel").onclick = () => {
    form.removeEventListener("submit", onSubmit);
    dialog.close();
  };
  dialog.showModal();
}

runPage(async () => {
  wireOwnerForm();
  document.getElementById("person-search").addEventListener("submit", async (event) => {
    event.preventDefault();
    const q = document.getElementById("q").value.trim();
    const found = await api(`/registry/persons?${new URLSearchParams({ q })}`);
    fill(document.getElementById("persons"), ...(found.length
      ? found.map((p) => h("li", {}, personLink(p.person_id, p.full_name), p.birth_date ? `, ${ruDate(p.birth_date)}` : ""))
      : [h("li", { class: "muted", text: "Никого не найдено." })]));
  });
  const premiseForm = document.getElementById("premise-search");
  premiseForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const v = formValues(premiseForm);
    try {
      await openPremise(v.building_id, v.premise_no);
      history.replaceState(null, "", `?${new URLSearchParams(v)}`);
    } catch (err) {
      showStatus(err.message, "error");
    }
  });
  const params = new URLSearchParams(location.search);
  if (params.get("building_id") && params.get("premise_no")) {
    document.getElementById("building").value = params.get("building_id");
    document.getElementById("premise").value = params.get("premise_no");
    await openPremise(params.get("building_id"), params.get("premise_no"));
  }
}, { accounts: false });
