// The live page's state, fed one stored event at a time (pure: no DOM, no network).
// Events carry a per-search `seq`; the store drops duplicates (replay after a reconnect overlaps the
// live stream) and keeps every series ordered by seq, so a reload or reconnect never adds a point twice.
// A resumed search drops its events after the checkpoint and emits new ones under the same numbers:
// a known seq arriving with another `time` (`isRewound`) means the page must start over from a
// fresh replay (`resetStore`, then reconnect with `socketQuery`).

export const LOG_LIMIT = 300;

export function createStore() {
  return {
    seen: new Set(), times: new Map(), cursor: 0, maxSeq: 0,
    steps: [], childEpochs: [], finalEpochs: [], logs: [],
    progress: null, searchProgress: null, status: null, sampled: null, best: null, evaluation: null,
    finished: null, plans: {}, children: {},
    dirty: new Set(),
  };
}

function insertBySeq(list, item) {
  let i = list.length;
  while (i > 0 && list[i - 1].seq > item.seq) i -= 1;
  list.splice(i, 0, item);
}

// Keeps the event's `time` with its seq: after a resume the same seq can name another event.
function latest(current, event) {
  return !current || event.seq > current.seq ? { seq: event.seq, time: event.time, ...event.payload } : current;
}

const HANDLERS = {
  controller_step: (s, e) => { insertBySeq(s.steps, { seq: e.seq, ...e.payload }); return "controller"; },
  child_train: (s, e) => { insertBySeq(s.childEpochs, { seq: e.seq, ...e.payload }); return "child"; },
  final_epoch: (s, e) => { insertBySeq(s.finalEpochs, { seq: e.seq, ...e.payload }); return "final"; },
  progress: (s, e) => {
    s.progress = latest(s.progress, e);
    if (e.payload.phase !== "final") s.searchProgress = latest(s.searchProgress, e);
    return ["progress", "status"];
  },
  status: (s, e) => {
    s.status = latest(s.status, e);
    insertBySeq(s.logs, { seq: e.seq, time: e.time, level: "info", message: statusLine(e.payload) });
    return ["log", "status"];
  },
  log: (s, e) => {
    insertBySeq(s.logs, { seq: e.seq, time: e.time, level: e.payload.level || "info", message: e.payload.message });
    return "log";
  },
  plan: (s, e) => { // what the budget buys, per phase; a budget too small to learn is a warning
    s.plans[e.payload.phase] = latest(s.plans[e.payload.phase], e);
    const level = e.payload.meaningful ? "info" : "warning";
    insertBySeq(s.logs, { seq: e.seq, time: e.time, level, message: `plan (${e.payload.phase}): ${e.payload.message}` });
    return ["plan", "log"];
  },
  child: (s, e) => { // a fanned-out child: its latest state, keyed by batch and place
    const key = `${e.payload.step}.${e.payload.index}`;
    s.children[key] = latest(s.children[key], e);
    return "children";
  },
  arch_sampled: (s, e) => { s.sampled = latest(s.sampled, e); return "sampled"; },
  best: (s, e) => { s.best = latest(s.best, e); return "best"; },
  evaluation: (s, e) => { s.evaluation = latest(s.evaluation, e); return "evaluation"; },
  finished: (s, e) => {
    s.finished = latest(s.finished, e);
    const level = e.payload.status === "failed" ? "error" : "info";
    insertBySeq(s.logs, { seq: e.seq, time: e.time, level, message: statusLine(e.payload) });
    return ["finished", "log"];
  },
};

/** Every event type has a handler above or is named here as deliberately ignored by the live page, so
 * a new type (frontend/static/js/event_types.json, generated from searchcore) fails the store's test
 * until someone decides. */
export const IGNORED_TYPES = Object.freeze([]);
export const HANDLED_TYPES = Object.freeze(Object.keys(HANDLERS));

export const CHILD_ROWS = 24;

/** The fanned-out children for the live page's table, newest batch first, at most `limit` rows:
 * batch and child numbered from 1, the worker that runs it, progress in percent. */
export function childRows(store, limit = CHILD_ROWS) {
  return Object.values(store.children)
    .sort((a, b) => b.step - a.step || a.index - b.index)
    .slice(0, limit)
    .map((c) => ({
      batch: c.step + 1, child: c.index + 1, state: c.state, worker: c.worker || "—",
      progress: Math.round(100 * (c.state === "done" ? 1 : c.progress || 0)), attempt: c.attempt,
      reward: typeof c.reward === "number" ? c.reward.toFixed(3) : "—", message: c.message || "",
    }));
}

function statusLine(payload) {
  const status = String(payload.status || "").replaceAll("_", " ");
  return payload.message ? `${status}: ${payload.message}` : status;
}

/** Apply one event; returns false (and changes nothing) for a duplicate or malformed event. */
export function ingest(store, event) {
  if (!event || typeof event.seq !== "number" || store.seen.has(event.seq)) return false;
  store.seen.add(event.seq);
  if (typeof event.time === "number") store.times.set(event.seq, event.time);
  store.maxSeq = Math.max(store.maxSeq, event.seq);
  while (store.seen.has(store.cursor + 1)) store.cursor += 1;
  const handler = HANDLERS[event.type];
  if (handler) {
    for (const part of [].concat(handler(store, { ...event, payload: event.payload || {} }))) store.dirty.add(part);
  }
  if (store.logs.length > LOG_LIMIT) store.logs.splice(0, store.logs.length - LOG_LIMIT);
  return true;
}

/** True when `event` reuses a seq this store holds under another `time` (the search was resumed
 * from a checkpoint and re-emitted it): the view is stale from there on. */
export function isRewound(store, event) {
  if (!event || typeof event.seq !== "number" || typeof event.time !== "number") return false;
  const known = store.times.get(event.seq);
  return typeof known === "number" && Math.abs(known - event.time) > 1e-6;
}

/** Empty the store in place (the object stays `window.nasLive`); every part needs a redraw. */
export function resetStore(store) {
  Object.assign(store, createStore());
  for (const part of ["controller", "child", "children", "final", "progress", "status", "log"]) store.dirty.add(part);
}

/** The websocket query: replay after the contiguous cursor, naming that event's time so the server
 * can tell when it was replaced (then it replays everything). */
export function socketQuery(store) {
  const time = store.times.get(store.cursor);
  return store.cursor > 0 && typeof time === "number" ? `?after=${store.cursor}&t=${time}` : `?after=${store.cursor}`;
}

/** Take and clear the set of parts that need redrawing. */
export function takeDirty(store) {
  const dirty = new Set(store.dirty);
  store.dirty.clear();
  return dirty;
}

/** Reconnect back-off: 0.5 s doubling to 15 s, with up to 20 % jitter from `rand` (0..1). */
export function backoffDelay(attempt, rand = 0) {
  const base = Math.min(15000, 500 * 2 ** Math.max(0, attempt));
  return Math.round(base * (1 + 0.2 * rand));
}

/** Elapsed time: "42 s", "3 min 05 s", "2 h 01 min"; "—" when unknown. */
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  const s = Math.max(0, Math.round(seconds));
  const pad = (n) => String(n).padStart(2, "0");
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${pad(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${pad(Math.floor((s % 3600) / 60))} min`;
}

const PHASES = {
  running: "Searching", searching: "Searching", deriving: "Choosing the best architecture",
  search_ended: "Search finished", training: "Final training", final: "Final training",
  exporting: "Building the download package", cancelling: "Cancelling", cancelled: "Cancelled",
  paused: "Paused: waiting for a worker to resume it",
};

/** The newer of two events' `archs_evaluated` (controller steps carry it too, so the counter keeps
 * pace with the reward chart between progress events). */
function latestCount(a, b) {
  const known = [a, b].filter((e) => e && typeof e.archs_evaluated === "number");
  known.sort((x, y) => y.seq - x.seq);
  return known.length ? known[0].archs_evaluated : undefined;
}

/** What the progress card shows. The worker adds the whole run's view to each progress event
 * (`overall_*`, `total_elapsed_seconds`: search and final training on one bar); events stored
 * before that carry only their stage's `fraction`. Architectures are the search's count (final
 * training reports none); the phase is the newest of the last status and the last progress. */
export function progressView(store) {
  const p = store.progress || {};
  const fraction = p.overall_fraction ?? p.fraction ?? 0;
  const statusNewer = store.status && (!store.progress || store.status.seq > store.progress.seq);
  const phase = statusNewer ? store.status.status : p.phase;
  const searchArchs = latestCount(store.searchProgress, store.steps[store.steps.length - 1]);
  return {
    pct: Math.round(100 * Math.min(1, Math.max(0, fraction))),
    eta: store.progress ? formatEta(p.overall_eta_seconds ?? p.eta_seconds) : "",
    phase: PHASES[phase] || phase || "",
    epoch: p.epoch ?? "—",
    epochLabel: p.phase === "final" ? "final-training epoch" : "search epoch",
    archs: searchArchs ?? "—",
    elapsed: formatDuration(p.total_elapsed_seconds ?? p.elapsed_seconds),
  };
}

export function formatEta(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "ETA —";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `ETA ${s} s`;
  if (s < 3600) return `ETA ${Math.floor(s / 60)} min ${s % 60} s`;
  return `ETA ${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

/** The live page's collapse badge for the best architecture so far: "collapse: <reasons>" when the
 * search reported it degenerate (`best.degenerate`, see searchcore's `degenerate_reasons`), else "". */
export function collapseText(best) {
  const listed = best && Array.isArray(best.degenerate) ? best.degenerate : [];
  const reasons = listed.filter((r) => typeof r === "string" && r);
  return reasons.length ? `collapse: ${reasons.join("; ")}` : "";
}

const SEARCH_STATUSES = ["queued", "running", "cancelling", "cancelled", "failed", "succeeded"];

/** The badge to show: the final status once finished, else the worker's status while it runs. */
export function searchStatus(store, initial) {
  if (store.finished) return store.finished.status;
  const reported = store.status && store.status.status;
  if (reported === "cancelling" || initial === "cancelling") return "cancelling";
  if (SEARCH_STATUSES.includes(reported)) return reported;
  return store.status || store.progress ? "running" : initial;
}
