import { test } from "node:test";
import assert from "node:assert/strict";
import { cellSvgQuery } from "../static/js/cells.js";
import { createStore, ingest } from "../static/js/live_store.js";

test("the cell SVG query names the event's seq and time", () => {
  const s = createStore();
  ingest(s, { seq: 7, type: "arch_sampled", time: 1717171717.123456, payload: { step: 3, graph: { cells: [] } } });
  assert.equal(s.sampled.time, 1717171717.123456);
  assert.equal(cellSvgQuery("sampled", s.sampled, 1), "?which=sampled&seq=7&t=1717171717.123456&cell=1");
});

test("a resumed search's event under the same seq gets another URL", () => {
  const before = createStore();
  ingest(before, { seq: 7, type: "best", time: 100.5, payload: { reward: 0.4 } });
  const after = createStore(); // the page starts over from a fresh store after a rewind
  ingest(after, { seq: 7, type: "best", time: 250.25, payload: { reward: 0.6 } });
  assert.notEqual(cellSvgQuery("best", before.best, 0), cellSvgQuery("best", after.best, 0));
});

test("an event without a time falls back to the seq alone", () => {
  assert.equal(cellSvgQuery("best", { seq: 2 }, 0), "?which=best&seq=2&cell=0");
});
