// The offline world map: Natural Earth 1:110m countries from the
// world-atlas package, bundled into app.js; d3-geo's Equal Earth projection.
import { geoEqualEarth, geoPath, geoInterpolate } from "d3-geo";
import { feature, mesh } from "topojson-client";
import world from "world-atlas/countries-110m.json";
import { s } from "./dom.js";
import { regionClass } from "./labels.js";

const WIDTH = 960;
const HEIGHT = 470;

let land = null;
let borders = null;

// An SVG world map with a dot for each city that has a location. `onCity`
// is called with a city when its dot is clicked. Returns the svg and a
// `project(city)` function ([x, y] or null).
export function worldMap(cities, { onCity, className = "map" } = {}) {
  if (!land) {
    land = feature(world, world.objects.countries);
    borders = mesh(world, world.objects.countries, (a, b) => a !== b);
  }
  const projection = geoEqualEarth().fitExtent([[8, 8], [WIDTH - 8, HEIGHT - 8]], { type: "Sphere" });
  const path = geoPath(projection);
  const svg = s("svg", { class: className, viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "aria-label": "World map of member cities" },
    s("path", { class: "sphere", d: path({ type: "Sphere" }) }),
    s("path", { class: "land", d: path(land) }),
    s("path", { class: "borders", d: path(borders) }));
  const arcs = s("g", { class: "arcs" });
  const dots = s("g", { class: "dots" });
  svg.appendChild(arcs);
  svg.appendChild(dots);
  const project = (c) => (c && c.location ? projection([c.location.longitude || 0, c.location.latitude || 0]) : null);
  for (const c of cities) {
    const p = project(c);
    if (!p) continue;
    const dot = s("circle", { class: `city-dot ${regionClass(c.region)}`, cx: p[0].toFixed(1), cy: p[1].toFixed(1), r: 4, "data-city": c.id },
      s("title", {}, `${c.name} (${c.country})`));
    if (onCity) dot.addEventListener("click", () => onCity(c));
    dots.appendChild(dot);
  }
  // A great-circle arc from city a to city b, drawn under the dots.
  const arc = (a, b, cls = "") => {
    if (!a.location || !b.location) return null;
    const from = [a.location.longitude || 0, a.location.latitude || 0];
    const to = [b.location.longitude || 0, b.location.latitude || 0];
    const line = { type: "LineString", coordinates: Array.from({ length: 17 }, (_, i) => geoInterpolate(from, to)(i / 16)) };
    const el = s("path", { class: `arc ${cls}`, d: path(line) || "" });
    arcs.appendChild(el);
    return el;
  };
  return { svg, project, arc };
}
