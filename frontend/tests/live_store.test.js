import { test } from "node:test";
import assert from "node:assert/strict";
import { backoffDelay, createStore, formatEta, ingest, takeDirty } from "../static/js/live_store.js";

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
