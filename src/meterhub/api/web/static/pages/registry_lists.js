// Lists by parameters: the table here, the same list as XLSX, the electronic population register.
import { API, api, fill, h, runPage, showStatus } from "../cabinet.js";
import { KINDS, formValues, lastDay, ruDate } from "../registry.js";

runPage(async () => {
  const form = document.getElementById("list-form");
  const query = () => {
    const v = formValues(form);
    if (v.minors_without_representative) v.minors_without_representative = "true";
    return new URLSearchParams(v);
  };
  const refreshLinks = () => {
    const q = query();
    document.getElementById("l-xlsx").href = `${API}/registry/lists.xlsx?${q}`;
    document.getElementById("l-register").href = `${API}/registry/population-register.xlsx?${new URLSearchParams({ building_id: q.get("building_id") || "" })}`;
  };
  form.addEventListener("input", refreshLinks);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const data = await api(`/registry/lists?${query()}`);
      document.getElementById("list-description").textContent = `${data.description}; найдено: ${data.rows.length}`;
      fill(document.getElementById("list-rows"), ...data.rows.map((r) => h("tr", {},
        h("td", { text: r.premise_no }), h("td", { text: r.full_name }), h("td", { text: ruDate(r.birth_date) }),
        h("td", { text: r.age ?? "" }), h("td", { text: KINDS[r.kind] }), h("td", { text: ruDate(r.start) }),
        h("td", { text: lastDay(r.end) }))));
      showStatus("");
    } catch (err) {
      showStatus(err.message, "error");
    }
  });
  refreshLinks();
}, { accounts: false });
