// The live page's state, fed one stored event at a time (pure: no DOM, no network).
// Events carry a per-search `seq`; the store drops duplicates (replay after a reconnect overlaps the
// live stream) and keeps every series ordered by seq, so a reload or reconnect never adds a point twice.

export const LOG_LIMIT = 300;

export function createStore() {
  return {
    seen: new Set(), cursor: 0, maxSeq: 0,
    steps: [], childEpochs: [], finalEpochs: [], logs: [],
    progress: null, status: null, sampled: null, best: null, evaluation: null, finished: null,
    dirty: new Set(),
  };
}

function insertBySeq(list, item) {
  let i = list.length;
  while (i > 0 && list[i - 1].seq > item.seq) i -= 1;
  list.splice(i, 0, item);
}

function latest(current, event) {
  return !current || event.seq > current.seq ? { seq: event.seq, ...event.payload } : current;
}

const HANDLERS = {
  controller_step: (s, e) => { insertBySeq(s.steps, { seq: e.seq, ...e.payload }); return "controller"; },
  child_train: (s, e) => { insertBySeq(s.childEpochs, { seq: e.seq, ...e.payload }); return "child"; },
  final_epoch: (s, e) => { insertBySeq(s.finalEpochs, { seq: e.seq, ...e.payload }); return "final"; },
  progress: (s, e) => { s.progress = latest(s.progress, e); return ["progress", "status"]; },
  status: (s, e) => {
    s.status = latest(s.status, e);
    insertBySeq(s.logs, { seq: e.seq, time: e.time, level: "info", message: statusLine(e.payload) });
    return ["log", "status"];
  },
  log: (s, e) => {
    insertBySeq(s.logs, { seq: e.seq, time: e.time, level: e.payload.level || "info", message: e.payload.message });
    return "log";
  },
  arch_sampled: (s, e) => { s.sampled = latest(s.sampled, e); return "sampled"; },
  best: (s, e) => { s.best = latest(s.best, e); return "best"; },
  evaluation: (s, e) => { s.evaluation = latest(s.evaluation, e); return "evaluation"; },
  finished: (s, e) => { s.finished = latest(s.finished, e); return "finished"; },
};

function statusLine(payload) {
  return payload.message ? `${payload.status}: ${payload.message}` : String(payload.status || "");
}

/** Apply one event; returns false (and changes nothing) for a duplicate or malformed event. */
export function ingest(store, event) {
  if (!event || typeof event.seq !== "number" || store.seen.has(event.seq)) return false;
  store.seen.add(event.seq);
  store.maxSeq = Math.max(store.maxSeq, event.seq);
  while (store.seen.has(store.cursor + 1)) store.cursor += 1;
  const handler = HANDLERS[event.type];
  if (handler) {
    for (const part of [].concat(handler(store, { ...event, payload: event.payload || {} }))) store.dirty.add(part);
  }
  if (store.logs.length > LOG_LIMIT) store.logs.splice(0, store.logs.length - LOG_LIMIT);
  return true;
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

export function formatEta(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "ETA —";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `ETA ${s} s`;
  if (s < 3600) return `ETA ${Math.floor(s / 60)} min ${s % 60} s`;
  return `ETA ${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
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
