// Cases: browse and search, view one, create, edit (PATCH), delete, and
// import a JSON Lines file with a progress bar. Edit controls exist only
// for a tab that may write; the server refuses writes of a read-only
// token all the same.
import { ApiError, call, importLines, listAll } from "./api.js";
import { clear, fold, h, message, show } from "./dom.js";
import { KINDS, THEMES, label } from "./labels.js";
import { canWrite, cities, cityName } from "./state.js";

function select(id, first, entries, value = "") {
  return h("select", { id }, first === null ? null : h("option", { value: "" }, first),
    entries.map(([k, v]) => h("option", { value: k, selected: k === value }, v)));
}

export async function casesView() {
  await cities();
  const all = await listAll("/v1/cases", "cases");
  const search = h("input", { type: "search", id: "case-search", placeholder: "Search title, description, id" });
  const kind = select("case-kind", "Both kinds", Object.entries(KINDS));
  const theme = select("case-theme", "All themes", Object.entries(THEMES));
  const city = select("case-city", "All cities", (await cities()).map((c) => [c.id, `${c.name} (${c.country})`]));
  const tbody = h("tbody", {});
  const count = h("span", { id: "case-count" });
  const render = () => {
    const q = fold(search.value.trim());
    const shown = all.filter((c) =>
      (!kind.value || c.kind === kind.value) &&
      (!theme.value || (c.themes || []).includes(theme.value)) &&
      (!city.value || c.cityId === city.value) &&
      (!q || fold(`${c.title} ${c.description} ${c.id}`).includes(q)));
    clear(tbody);
    for (const c of shown.slice(0, 500)) {
      tbody.appendChild(h("tr", { "data-case": c.id },
        h("td", {}, h("a", { href: `#/case/${encodeURIComponent(c.id)}`, class: "case-title" }, c.title)),
        h("td", {}, label(KINDS, c.kind)),
        h("td", {}, h("a", { href: `#/city/${encodeURIComponent(c.cityId)}` }, cityName(c.cityId))),
        h("td", {}, (c.themes || []).map((t) => label(THEMES, t)).join(", "))));
    }
    count.textContent = `${shown.length} of ${all.length} cases`;
  };
  for (const el of [search, kind, theme, city]) {
    el.addEventListener("input", render);
    el.addEventListener("change", render);
  }
  show(h("h1", {}, "Cases"),
    canWrite() ? h("p", { class: "write-controls" },
      h("a", { href: "#/case-new", class: "button", id: "new-case" }, "New case"), " ",
      importControl()) : null,
    h("div", { class: "filters" }, search, kind, theme, city, count),
    h("table", { id: "cases-table", class: "data" },
      h("thead", {}, h("tr", {}, ["Title", "Kind", "City", "Themes"].map((t) => h("th", {}, t)))), tbody));
  render();
}

function importControl() {
  const file = h("input", { type: "file", id: "import-file", accept: ".jsonl,.json,.ndjson,application/x-ndjson" });
  const progress = h("progress", { id: "import-progress", max: 1, value: 0, hidden: true });
  const out = h("div", { id: "import-result" });
  file.addEventListener("change", async () => {
    if (!file.files.length) return;
    clear(out);
    progress.hidden = false;
    try {
      const text = await file.files[0].text();
      const s = await importLines(text, (done, total) => {
        progress.max = Math.max(total, 1);
        progress.value = done;
        progress.textContent = `${done} / ${total}`;
      });
      out.appendChild(message(`Imported: ${s.citiesWritten} cities and ${s.casesWritten} cases written, ${s.unchanged} unchanged, ${s.errors.length} rejected.`, "ok"));
      if (s.errors.length) {
        out.appendChild(h("ul", { class: "import-errors" }, s.errors.map((e) =>
          h("li", {}, `line ${e.line}${e.id ? ` (${e.id})` : ""}: ${e.message}`))));
      }
    } catch (e) {
      out.appendChild(message(`Import failed: ${e.message}`));
    }
  });
  return h("span", { class: "import" }, h("label", { for: "import-file" }, "Import JSON Lines: "), file, progress, out);
}

export async function caseView(id) {
  await cities();
  const c = await call("GET", `/v1/cases/${encodeURIComponent(id)}`);
  const status = h("div", { id: "case-status" });
  const del = async () => {
    if (!confirm(`Delete the case "${c.title}"?`)) return;
    try {
      await call("DELETE", `/v1/cases/${encodeURIComponent(c.id)}`);
      location.hash = "#/cases";
    } catch (e) {
      clear(status).appendChild(message(e.message));
    }
  };
  show(h("p", {}, h("a", { href: "#/cases" }, "← All cases")),
    h("h1", { id: "case-title" }, c.title),
    h("p", { class: "muted" }, label(KINDS, c.kind), " of ",
      h("a", { href: `#/city/${encodeURIComponent(c.cityId)}` }, cityName(c.cityId)),
      c.year ? ` · ${c.year}` : "", c.language ? ` · ${c.language}` : ""),
    h("p", { id: "case-description", class: "text" }, c.description),
    c.outcome ? h("p", { class: "text" }, h("strong", {}, "Outcome: "), c.outcome) : null,
    h("dl", { class: "facts" },
      h("dt", {}, "Themes"), h("dd", {}, (c.themes || []).map((t) => label(THEMES, t)).join(", ")),
      h("dt", {}, "SDGs"), h("dd", {}, (c.sdgs || []).join(", ") || "—"),
      h("dt", {}, "Target groups"), h("dd", {}, (c.targetGroups || []).join(", ") || "—"),
      h("dt", {}, "Tags"), h("dd", {}, (c.tags || []).join(", ") || "—"),
      h("dt", {}, "Id"), h("dd", {}, c.id)),
    c.kind === "CASE_KIND_CHALLENGE" ? h("p", {}, h("a", { class: "button", href: `#/match`, onclick: () => sessionStorage.setItem("peermatch.matchCase", c.id) }, "Find peers for this challenge")) : null,
    canWrite() ? h("p", { class: "write-controls" },
      h("a", { class: "button", id: "edit-case", href: `#/case/${encodeURIComponent(c.id)}/edit` }, "Edit"), " ",
      h("button", { type: "button", id: "delete-case", class: "danger", onclick: del }, "Delete")) : null,
    status);
}

// The form's fields, as the API names them (errors name them too).
const FIELDS = ["id", "cityId", "kind", "title", "description", "outcome", "themes", "sdgs", "targetGroups", "tags", "year", "language"];
const PROTO_NAMES = { city_id: "cityId", target_groups: "targetGroups" };

function listValue(text) {
  return text.split(",").map((x) => x.trim()).filter((x) => x !== "");
}

export async function caseEditView(id) {
  if (!canWrite()) {
    show(message("This token is read-only: it cannot create or change cases."));
    return;
  }
  const all = await cities();
  const c = id ? await call("GET", `/v1/cases/${encodeURIComponent(id)}`) : { kind: "CASE_KIND_CHALLENGE", themes: [] };
  const inputs = {
    id: h("input", { id: "f-id", value: c.id || "", disabled: Boolean(id), required: true }),
    cityId: select("f-cityId", null, all.map((x) => [x.id, `${x.name} (${x.country})`]), c.cityId || (all[0] && all[0].id)),
    kind: select("f-kind", null, Object.entries(KINDS), c.kind),
    title: h("input", { id: "f-title", value: c.title || "", size: 60 }),
    description: h("textarea", { id: "f-description", rows: 6, cols: 60 }),
    outcome: h("textarea", { id: "f-outcome", rows: 2, cols: 60 }),
    themes: h("select", { id: "f-themes", multiple: true, size: 6 },
      Object.entries(THEMES).map(([k, v]) => h("option", { value: k, selected: (c.themes || []).includes(k) }, v))),
    sdgs: h("input", { id: "f-sdgs", value: (c.sdgs || []).join(", "), placeholder: "4, 10" }),
    targetGroups: h("input", { id: "f-targetGroups", value: (c.targetGroups || []).join(", ") }),
    tags: h("input", { id: "f-tags", value: (c.tags || []).join(", ") }),
    year: h("input", { id: "f-year", type: "number", value: c.year || "" }),
    language: h("input", { id: "f-language", value: c.language || "", size: 4, placeholder: "en" }),
  };
  inputs.description.value = c.description || "";
  inputs.outcome.value = c.outcome || "";
  const errors = Object.fromEntries(FIELDS.map((f) => [f, h("span", { class: "field-error", id: `e-${f}`, role: "alert" })]));
  const status = h("div", { id: "form-status" });
  const read = () => {
    const body = {
      id: inputs.id.value.trim(), cityId: inputs.cityId.value, kind: inputs.kind.value,
      title: inputs.title.value, description: inputs.description.value, outcome: inputs.outcome.value,
      themes: [...inputs.themes.selectedOptions].map((o) => o.value),
      sdgs: listValue(inputs.sdgs.value).map(Number), targetGroups: listValue(inputs.targetGroups.value),
      tags: listValue(inputs.tags.value), year: Number(inputs.year.value || 0), language: inputs.language.value.trim(),
    };
    return body;
  };
  const form = h("form", { id: "case-form", class: "card", novalidate: true },
    FIELDS.map((f) => h("div", { class: "field" },
      h("label", { for: `f-${f}` }, f), inputs[f], errors[f])),
    h("button", { type: "submit", id: "save-case" }, id ? "Save changes" : "Create case"), status);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    for (const e of Object.values(errors)) e.textContent = "";
    clear(status);
    const body = read();
    try {
      if (id) {
        delete body.id;
        // Every field of the form, named in the mask, so that a field
        // emptied here is cleared on the server too.
        const mask = FIELDS.filter((f) => f !== "id").join(",");
        await call("PATCH", `/v1/cases/${encodeURIComponent(id)}?updateMask=${mask}`, body);
        location.hash = `#/case/${encodeURIComponent(id)}`;
      } else {
        await call("POST", "/v1/cases", body);
        location.hash = `#/case/${encodeURIComponent(body.id)}`;
      }
    } catch (e) {
      const field = e instanceof ApiError ? (PROTO_NAMES[e.field] || e.field) : "";
      const named = FIELDS.find((f) => f === field || fold(f) === fold(field.replace(/_/g, "")));
      if (named) errors[named].textContent = e.message;
      else status.appendChild(message(e.message));
    }
  });
  show(h("p", {}, h("a", { href: id ? `#/case/${encodeURIComponent(id)}` : "#/cases" }, "← Back")),
    h("h1", {}, id ? "Edit case" : "New case"), form);
}
