// What the views share: the city list and what this tab may do.
import { listAll } from "./api.js";

// `access`: "open" (no tokens), "write", "read" or "none" (sign in).
export const state = { access: "none", cities: null, cityById: new Map() };

export function canWrite() {
  return state.access === "open" || state.access === "write";
}

// Every city, by name; fetched once (reload: again).
export async function cities(reload = false) {
  if (!state.cities || reload) {
    state.cities = await listAll("/v1/cities", "cities");
    state.cities.sort((a, b) => a.name.localeCompare(b.name));
    state.cityById = new Map(state.cities.map((c) => [c.id, c]));
  }
  return state.cities;
}

export function cityName(id) {
  const c = state.cityById.get(id);
  return c ? `${c.name} (${c.country})` : id;
}
