// Cities: the world map (a dot per city, coloured by region), the table
// with search and filters, and one city's page with its cases.
import { call, listAll } from "./api.js";
import { clear, fold, h, show } from "./dom.js";
import { KINDS, REGIONS, THEMES, label, regionClass } from "./labels.js";
import { worldMap } from "./map.js";
import { cities } from "./state.js";

export function regionLegend() {
  return h("ul", { class: "legend" }, Object.entries(REGIONS).map(([k, v]) =>
    h("li", {}, h("span", { class: `swatch ${regionClass(k)}` }), v)));
}

function regionSelect(id) {
  return h("select", { id }, h("option", { value: "" }, "All regions"),
    Object.entries(REGIONS).map(([k, v]) => h("option", { value: k }, v)));
}

export async function citiesView() {
  const all = await cities(true);
  const search = h("input", { type: "search", id: "city-search", placeholder: "Search name, id or country" });
  const region = regionSelect("city-region");
  const country = h("select", { id: "city-country" }, h("option", { value: "" }, "All countries"),
    [...new Set(all.map((c) => c.country))].sort().map((c) => h("option", { value: c }, c)));
  const tbody = h("tbody", {});
  const count = h("span", { id: "city-count" });
  const map = worldMap(all, { onCity: (c) => { location.hash = `#/city/${encodeURIComponent(c.id)}`; } });

  const render = () => {
    const q = fold(search.value.trim());
    const shown = all.filter((c) =>
      (!region.value || c.region === region.value) &&
      (!country.value || c.country === country.value) &&
      (!q || fold(`${c.name} ${c.id} ${c.country}`).includes(q)));
    const ids = new Set(shown.map((c) => c.id));
    for (const dot of map.svg.querySelectorAll(".city-dot")) {
      dot.classList.toggle("dimmed", !ids.has(dot.getAttribute("data-city")));
    }
    clear(tbody);
    for (const c of shown) {
      tbody.appendChild(h("tr", { "data-city": c.id },
        h("td", {}, h("a", { href: `#/city/${encodeURIComponent(c.id)}` }, c.name)),
        h("td", {}, c.country),
        h("td", {}, h("span", { class: `swatch ${regionClass(c.region)}` }), label(REGIONS, c.region)),
        h("td", { class: "num" }, c.population && c.population !== "0" ? Number(c.population).toLocaleString("en") : "—"),
        h("td", {}, (c.languages || []).join(", ")),
        h("td", { class: "num" }, c.location ? `${(c.location.latitude || 0).toFixed(2)}, ${(c.location.longitude || 0).toFixed(2)}` : "—")));
    }
    count.textContent = `${shown.length} of ${all.length} cities`;
  };
  for (const el of [search, region, country]) {
    el.addEventListener("input", render);
    el.addEventListener("change", render);
  }
  show(h("h1", {}, "Member cities"),
    h("div", { class: "map-wrap" }, map.svg), regionLegend(),
    h("div", { class: "filters" }, search, region, country, count),
    h("table", { id: "cities-table", class: "data" },
      h("thead", {}, h("tr", {}, ["City", "Country", "Region", "Population", "Languages", "Location"].map((t) => h("th", {}, t)))),
      tbody));
  render();
}

export function caseList(items) {
  if (items.length === 0) return h("p", { class: "muted" }, "None.");
  return h("ul", { class: "case-list" }, items.map((c) => h("li", {},
    h("a", { href: `#/case/${encodeURIComponent(c.id)}` }, c.title), " ",
    h("span", { class: "muted" }, (c.themes || []).map((t) => label(THEMES, t)).join(", ")))));
}

export async function cityView(id) {
  await cities();
  const [city, cases] = await Promise.all([
    call("GET", `/v1/cities/${encodeURIComponent(id)}`),
    listAll("/v1/cases", "cases", { cityId: id }),
  ]);
  const map = worldMap([city], { className: "map map-small" });
  const challenges = cases.filter((c) => c.kind === "CASE_KIND_CHALLENGE");
  const solutions = cases.filter((c) => c.kind === "CASE_KIND_SOLUTION");
  show(h("p", {}, h("a", { href: "#/cities" }, "← All cities")),
    h("h1", { id: "city-name" }, city.name, " ", h("span", { class: "muted" }, city.country)),
    h("dl", { class: "facts" },
      h("dt", {}, "Region"), h("dd", {}, label(REGIONS, city.region)),
      h("dt", {}, "Population"), h("dd", {}, city.population && city.population !== "0" ? Number(city.population).toLocaleString("en") : "unknown"),
      h("dt", {}, "Languages"), h("dd", {}, (city.languages || []).join(", ") || "—"),
      h("dt", {}, "Joined"), h("dd", {}, city.joinedYear ? String(city.joinedYear) : "unknown"),
      h("dt", {}, "Location"), h("dd", {}, city.location ? `${city.location.latitude || 0}, ${city.location.longitude || 0}` : "unknown")),
    h("div", { class: "map-wrap small" }, map.svg),
    h("h2", {}, `${label(KINDS, "CASE_KIND_CHALLENGE")}s (${challenges.length})`), caseList(challenges),
    h("h2", {}, `${label(KINDS, "CASE_KIND_SOLUTION")}s (${solutions.length})`), caseList(solutions),
    h("p", {}, h("a", { href: "#/match", class: "button", onclick: () => sessionStorage.setItem("peermatch.askingCity", city.id) }, "Find peers for a challenge of this city")));
}
