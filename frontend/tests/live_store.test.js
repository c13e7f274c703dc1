import { test } from "node:test";
import assert from "node:assert/strict";
import { backoffDelay, collapseText, createStore, formatEta, ingest, takeDirty } from "../static/js/live_store.js";

const step = (seq, n) => ({ seq, type: "controller_step", time: seq, payload: { step: n, reward: n / 10, baseline: 0, entropy: 1 } });

test("duplicates are dropped and the cursor only moves over contiguous seqs", () => {
  const s = createStore();
  assert.equal(ingest(s, step(1, 1)), true);
  assert.equal(ingest(s, step(1, 1)), false);
  assert.equal(ingest(s, step(3, 3)), true);
  assert.equal(s.cursor, 1);
  assert.equal(s.maxSeq, 3);
  assert.equal(ingest(s, step(2, 2)), true);
  assert.equal(s.cursor, 3);
  assert.deepEqual(s.steps.map((x) => x.seq), [1, 2, 3]);
});

test("replay overlapping the live stream adds no point twice", () => {
  const s = createStore();
  for (let i = 1; i <= 10; i++) ingest(s, step(i, i));
  for (let i = 5; i <= 15; i++) ingest(s, step(i, i)); // reconnect with after=4 style overlap
  assert.equal(s.steps.length, 15);
  assert.equal(new Set(s.steps.map((x) => x.seq)).size, 15);
});

test("dirty parts are reported once per event type", () => {
  const s = createStore();
  ingest(s, step(1, 1));
  ingest(s, { seq: 2, type: "progress", time: 2, payload: { fraction: 0.5, phase: "search" } });
  ingest(s, { seq: 3, type: "log", time: 3, payload: { level: "warning", message: "hi" } });
  assert.deepEqual([...takeDirty(s)].sort(), ["controller", "log", "progress", "status"]);
  assert.equal(takeDirty(s).size, 0);
  assert.equal(s.progress.fraction, 0.5);
  assert.equal(s.logs[0].level, "warning");
});

test("latest-only events keep the newest seq even when an older one arrives later", () => {
  const s = createStore();
  ingest(s, { seq: 5, type: "best", time: 5, payload: { reward: 0.9 } });
  ingest(s, { seq: 4, type: "best", time: 4, payload: { reward: 0.1 } });
  assert.equal(s.best.reward, 0.9);
});

test("malformed events are ignored", () => {
  const s = createStore();
  assert.equal(ingest(s, null), false);
  assert.equal(ingest(s, { type: "log" }), false);
  assert.equal(s.seen.size, 0);
});

test("back-off doubles and is capped", () => {
  assert.equal(backoffDelay(0), 500);
  assert.equal(backoffDelay(1), 1000);
  assert.equal(backoffDelay(3), 4000);
  assert.equal(backoffDelay(20), 15000);
  assert.equal(backoffDelay(0, 1), 600);
});

test("ETA text", () => {
  assert.equal(formatEta(null), "ETA —");
  assert.equal(formatEta(42.4), "ETA 42 s");
  assert.equal(formatEta(125), "ETA 2 min 5 s");
  assert.equal(formatEta(7260), "ETA 2 h 1 min");
});

test("status badge follows the worker, then the final status", async () => {
  const { searchStatus } = await import("../static/js/live_store.js");
  const s = createStore();
  assert.equal(searchStatus(s, "queued"), "queued");
  ingest(s, { seq: 1, type: "status", time: 1, payload: { status: "running", message: "started" } });
  assert.equal(searchStatus(s, "queued"), "running");
  ingest(s, { seq: 2, type: "status", time: 2, payload: { status: "training", message: "final" } });
  assert.equal(searchStatus(s, "queued"), "running");
  assert.ok(takeDirty(s).has("status"));
  ingest(s, { seq: 3, type: "finished", time: 3, payload: { status: "succeeded" } });
  assert.equal(searchStatus(s, "running"), "succeeded");
});

const progress = (seq, payload) => ({ seq, type: "progress", time: 100 + seq, payload });

test("progress view: the whole run's bar, ETA and elapsed, from the worker's overall fields", async () => {
  const { progressView } = await import("../static/js/live_store.js");
  const s = createStore();
  assert.deepEqual(progressView(s).pct, 0);
  ingest(s, progress(1, { phase: "searching", fraction: 0.5, eta_seconds: 20, epoch: 3, archs_evaluated: 90,
    elapsed_seconds: 20, overall_fraction: 0.425, overall_eta_seconds: 35, total_elapsed_seconds: 20 }));
  let v = progressView(s);
  assert.deepEqual([v.pct, v.eta, v.phase, v.epoch, v.archs, v.elapsed, v.epochLabel],
    [43, "ETA 35 s", "Searching", 3, 90, "20 s", "search epoch"]);
  ingest(s, { seq: 2, type: "status", time: 102, payload: { status: "deriving", message: "scoring" } });
  assert.equal(progressView(s).phase, "Choosing the best architecture");
  // final training reports its own epochs and no architectures: the search's count stays
  ingest(s, progress(3, { phase: "final", fraction: 0.2, eta_seconds: 8, epoch: 4, archs_evaluated: 0,
    elapsed_seconds: 2, overall_fraction: 0.88, overall_eta_seconds: 8, total_elapsed_seconds: 62 }));
  v = progressView(s);
  assert.deepEqual([v.pct, v.phase, v.epoch, v.archs, v.elapsed, v.epochLabel],
    [88, "Final training", 4, 90, "1 min 02 s", "final-training epoch"]);
});

test("progress view falls back to a stage's own fraction for events without overall fields", async () => {
  const { progressView } = await import("../static/js/live_store.js");
  const s = createStore();
  ingest(s, progress(1, { phase: "searching", fraction: 0.25, eta_seconds: 30, epoch: 1, archs_evaluated: 7,
    elapsed_seconds: 10 }));
  const v = progressView(s);
  assert.deepEqual([v.pct, v.eta, v.archs, v.elapsed], [25, "ETA 30 s", 7, "10 s"]);
});

test("durations", async () => {
  const { formatDuration } = await import("../static/js/live_store.js");
  assert.equal(formatDuration(undefined), "—");
  assert.equal(formatDuration(4.6), "5 s");
  assert.equal(formatDuration(185), "3 min 05 s");
  assert.equal(formatDuration(7260), "2 h 01 min");
});

test("a known seq with another time means a resumed search; reset empties the store in place", async () => {
  const { isRewound, resetStore } = await import("../static/js/live_store.js");
  const s = createStore();
  for (let i = 1; i <= 5; i++) ingest(s, step(i, i));
  assert.equal(isRewound(s, step(3, 3)), false); // a replayed duplicate: same time
  assert.equal(isRewound(s, step(6, 6)), false); // new
  const again = { ...step(4, 4), time: 999.5 }; // emitted again after the checkpoint at seq 3
  assert.equal(isRewound(s, again), true);
  takeDirty(s);
  const same = s;
  resetStore(s);
  assert.equal(s, same);
  assert.deepEqual([s.steps.length, s.seen.size, s.cursor, s.progress], [0, 0, 0, null]);
  assert.ok(takeDirty(s).has("controller"));
  assert.equal(ingest(s, again), true);
  assert.equal(s.steps[0].seq, 4);
});

test("the socket query names the time of the last contiguous event", async () => {
  const { socketQuery } = await import("../static/js/live_store.js");
  const s = createStore();
  assert.equal(socketQuery(s), "?after=0");
  ingest(s, { ...step(1, 1), time: 1718000000.123456 });
  ingest(s, { ...step(2, 2), time: 1718000001.5 });
  ingest(s, { ...step(4, 4), time: 1718000009 });
  assert.equal(socketQuery(s), "?after=2&t=1718000001.5");
});

test("the log reads status changes and the end in words", () => {
  const s = createStore();
  ingest(s, { seq: 1, type: "status", time: 1, payload: { status: "search_ended", message: "budget reached" } });
  ingest(s, { seq: 2, type: "finished", time: 2, payload: { status: "failed", message: "out of memory" } });
  assert.deepEqual(s.logs.map((l) => [l.level, l.message]),
    [["info", "search ended: budget reached"], ["error", "failed: out of memory"]]);
});

test("the architecture count follows the newest of progress and controller steps", async () => {
  const { progressView } = await import("../static/js/live_store.js");
  const s = createStore();
  ingest(s, progress(1, { phase: "searching", fraction: 0.01, archs_evaluated: 1, elapsed_seconds: 0.3 }));
  ingest(s, { seq: 2, type: "controller_step", time: 2, payload: { step: 2, reward: 0.1, archs_evaluated: 2 } });
  ingest(s, { seq: 3, type: "controller_step", time: 3, payload: { step: 3, reward: 0.1, archs_evaluated: 3 } });
  assert.equal(progressView(s).archs, 3);
  ingest(s, progress(4, { phase: "searching", fraction: 0.1, archs_evaluated: 3, elapsed_seconds: 1 }));
  ingest(s, progress(5, { phase: "final", fraction: 0.1, archs_evaluated: 0, elapsed_seconds: 1 }));
  assert.equal(progressView(s).archs, 3);
});

test("the collapse badge names the reasons of a degenerate best architecture, and nothing otherwise", () => {
  assert.equal(collapseText({ reward: 0.5, degenerate: ["the normal cell has no operation with weights"] }),
    "collapse: the normal cell has no operation with weights");
  assert.equal(collapseText({ degenerate: ["a", "b"] }), "collapse: a; b");
  assert.equal(collapseText({ reward: 0.5, degenerate: [] }), "");
  assert.equal(collapseText({ reward: 0.5 }), ""); // an event from before the check
  assert.equal(collapseText(null), "");
});

test("fanned-out children: the latest state of each, newest batch first, capped", async () => {
  const { childRows } = await import("../static/js/live_store.js");
  const s = createStore();
  const child = (seq, step, index, state, extra = {}) => ingest(s, {
    seq, type: "child", time: seq, payload: { step, index, state, attempt: 1, progress: 0, ...extra } });
  child(1, 0, 0, "pending");
  child(2, 0, 0, "running", { worker: "children1@box", progress: 0.5 });
  child(3, 0, 1, "running", { worker: "children2@box", progress: 0.25 });
  child(4, 1, 0, "pending");
  child(5, 0, 0, "done", { worker: "children1@box", progress: 1, reward: 0.4213 });
  child(2, 0, 0, "running"); // a duplicate seq changes nothing
  assert.deepEqual(takeDirty(s), new Set(["children"]));
  const rows = childRows(s);
  assert.deepEqual(rows.map((r) => [r.batch, r.child, r.state]), [[2, 1, "pending"], [1, 1, "done"], [1, 2, "running"]]);
  assert.equal(rows[1].worker, "children1@box");
  assert.equal(rows[1].reward, "0.421");
  assert.equal(rows[2].progress, 25);
  assert.equal(childRows(s, 2).length, 2);
});
