// Live progress of a long call: the streamed answer (NDJSON, one message a
// line, as `?stream=1` routes send it) read as it arrives, and a progress
// bar that shows each PairingProgress message.
import { ApiError, answer, headers } from "./api.js";
import { clear, h } from "./dom.js";

const STAGES = { scoring: "Scoring candidate pairs", solving: "Solving the assignment" };

// Calls `path` and hands each message of the answer to `onItem(item, read)`,
// `read` counting the network reads so far (1 for the first). An error
// answer throws ApiError; so does an error line in the stream
// ({"error": {...}}, sent when the call fails after it has started). A
// server that answers with one JSON object instead (no streaming) has its
// `pairs` and `summary` handed over as the stream's items would be.
export async function streamCall(method, path, body, onItem) {
  const res = await fetch(path, {
    method, cache: "no-store", body: JSON.stringify(body),
    headers: headers({ "Content-Type": "application/json", Accept: "application/x-ndjson" }),
  });
  if (!res.ok || !(res.headers.get("Content-Type") || "").startsWith("application/x-ndjson")) {
    const data = await answer(res);
    for (const pair of (data && data.pairs) || []) onItem({ pair }, 1);
    onItem(data && data.pairs ? { summary: data.summary } : data, 1);
    return;
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  let reads = 0;
  const line = (text) => {
    if (!text.trim()) return;
    const item = JSON.parse(text);
    if (item.error) throw new ApiError(item.error.code || 500, item.error.status || "", item.error.message || "");
    onItem(item, reads);
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    reads++;
    buffered += decoder.decode(value, { stream: true });
    const lines = buffered.split("\n");
    buffered = lines.pop();
    lines.forEach(line);
  }
  line(buffered + decoder.decode());
}

// A progress element `${prefix}-progress` with a bar `${prefix}-bar` and a
// stage line `${prefix}-stage`. Its data-state is running, done or failed;
// data-updates counts the progress messages shown, data-first-progress-read
// and data-result-read the network read that brought the first of them and
// the result (so tests can tell a live stream from an answer sent at once).
export function progressBox(prefix) {
  const el = h("div", { id: `${prefix}-progress`, class: "progress", hidden: true });
  const start = (text) => {
    const started = performance.now();
    const bar = h("progress", { id: `${prefix}-bar` });
    const stage = h("span", { id: `${prefix}-stage` }, text);
    clear(el).append(bar, " ", stage);
    for (const a of ["data-updates", "data-first-progress-read", "data-result-read"]) el.removeAttribute(a);
    el.hidden = false;
    el.setAttribute("data-state", "running");
    let updates = 0;
    return {
      seconds: () => (performance.now() - started) / 1000,
      update(p, read) {
        const total = Number(p.total) || 0;
        const done = Number(p.done) || 0;
        if (total > 0) {
          bar.max = total;
          bar.value = done;
        }
        stage.textContent = `${STAGES[p.stage] || p.stage}: ${done} of ${total} asking cities (${((performance.now() - started) / 1000).toFixed(1)} s)`;
        if (updates === 0 && read) el.setAttribute("data-first-progress-read", String(read));
        el.setAttribute("data-updates", String(++updates));
      },
      result(read) {
        if (read) el.setAttribute("data-result-read", String(read));
      },
      done(text) {
        bar.max = 1;
        bar.value = 1;
        stage.textContent = text;
        el.setAttribute("data-state", "done");
      },
      failed(text = "Failed.") {
        stage.textContent = text;
        el.setAttribute("data-state", "failed");
      },
    };
  };
  return { el, start };
}
