// The JSON API of the same origin (GET /openapi.json describes it). The
// token lives in sessionStorage (this tab only, gone when it closes) and is
// sent as the bearer header, never in a URL.

const TOKEN_KEY = "peermatch.token";

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}
export function setToken(t) {
  if (t) sessionStorage.setItem(TOKEN_KEY, t);
  else sessionStorage.removeItem(TOKEN_KEY);
}

// An error answer: {"error": {code, status, message}}. `field` is the
// record field the message names ("case.title: is required" -> "title").
export class ApiError extends Error {
  constructor(httpStatus, status, message) {
    super(message);
    this.httpStatus = httpStatus;
    this.status = status;
    const m = /^([A-Za-z_][\w.]*(?:\[\d+\])?(?:\.[\w]+)*): /.exec(message);
    this.path = m ? m[1] : "";
    this.field = m ? m[1].replace(/^(case|city|body)\./, "").replace(/\[\d+\]/g, "") : "";
  }
}

export function headers(extra = {}) {
  const out = { ...extra };
  const t = token();
  if (t) out.Authorization = `Bearer ${t}`;
  return out;
}

export async function answer(res) {
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const e = data && data.error ? data.error : {};
    throw new ApiError(res.status, e.status || String(res.status), e.message || text || res.statusText);
  }
  return data;
}

// One call: `body` is sent as JSON (a string as it is).
export async function call(method, path, body) {
  const init = { method, headers: headers(), cache: "no-store" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  return answer(await fetch(path, init));
}

// Every item of a paged list (GET /v1/cities, /v1/cases).
export async function listAll(path, key, params = {}) {
  const items = [];
  let pageToken = "";
  for (let page = 0; page < 1000; page++) {
    const q = new URLSearchParams({ ...params, pageSize: "1000" });
    if (pageToken) q.set("pageToken", pageToken);
    const data = await call("GET", `${path}?${q}`);
    items.push(...(data[key] || []));
    pageToken = data.nextPageToken || "";
    if (!pageToken) break;
  }
  return items;
}

// What this tab may do: "open" (the server has no tokens), "write",
// "read", or "none" (a token is needed, or the one given is wrong). The
// write probe is a dry-run import of no record: it writes nothing.
export async function probeAccess() {
  try {
    await call("GET", "/v1/stats");
  } catch (e) {
    if (e.httpStatus === 401 || e.httpStatus === 403) return "none";
    throw e;
  }
  try {
    await call("POST", "/v1/import", JSON.stringify({ options: { dryRun: true } }));
  } catch (e) {
    if (e.httpStatus === 403 || e.httpStatus === 401) return "read";
    throw e;
  }
  return token() ? "write" : "open";
}

// JSON Lines posted `chunk` lines at a time, so that `progress(done, total)`
// reports records the server has answered for. The summaries are added up;
// error indexes are mapped back to 1-based line numbers of the file.
export async function importLines(text, progress, chunk = 40) {
  const lines = text.split("\n").map((l, i) => ({ l, n: i + 1 })).filter((x) => x.l.trim() !== "");
  const total = { citiesWritten: 0, casesWritten: 0, unchanged: 0, errors: [] };
  progress(0, lines.length);
  for (let i = 0; i < lines.length; i += chunk) {
    const part = lines.slice(i, i + chunk);
    const res = await fetch("/v1/import", {
      method: "POST",
      headers: headers({ "Content-Type": "application/x-ndjson" }),
      body: part.map((x) => x.l).join("\n"),
    });
    const s = await answer(res);
    total.citiesWritten += s.citiesWritten || 0;
    total.casesWritten += s.casesWritten || 0;
    total.unchanged += s.unchanged || 0;
    for (const e of s.errors || []) total.errors.push({ ...e, line: part[e.index] ? part[e.index].n : 0 });
    progress(Math.min(i + chunk, lines.length), lines.length);
  }
  return total;
}
