import { test } from "node:test";
import assert from "node:assert/strict";
import { paretoFront, paretoLayout, paretoTraces } from "../static/js/charts/pareto.js";

const p = (accuracy, latency_ms, name = "") => ({ accuracy, latency_ms, architecture: { name } });

test("the front keeps the points no other is both faster and more accurate than, by latency", () => {
  const points = [p(0.5, 3, "c"), p(0.9, 10, "e"), p(0.4, 1, "a"), p(0.45, 2, "b"), p(0.42, 2.5, "x"),
    p(0.8, 12, "y"), p(0.7, 5, "d"), p(0.3, 4, "z")];
  assert.deepEqual(paretoFront(points).map((q) => q.architecture.name), ["a", "b", "c", "d", "e"]);
});

test("ties: equal latency keeps the more accurate, equal points appear once, equal accuracy the faster", () => {
  assert.deepEqual(paretoFront([p(0.5, 2, "slow"), p(0.6, 2, "best"), p(0.6, 2, "same")])
    .map((q) => q.architecture.name), ["best"]);
  assert.deepEqual(paretoFront([p(0.6, 3, "later"), p(0.6, 1, "fast")]).map((q) => q.architecture.name), ["fast"]);
});

test("empty, single and non-finite inputs", () => {
  assert.deepEqual(paretoFront([]), []);
  assert.deepEqual(paretoFront([p(0.1, 1, "only")]).map((q) => q.architecture.name), ["only"]);
  assert.deepEqual(paretoFront([p(NaN, 1), p(0.2, null), null, p(0.3, 2, "ok")]).map((q) => q.architecture.name),
    ["ok"]);
});

test("the input is not reordered", () => {
  const points = [p(0.9, 10), p(0.1, 1)];
  paretoFront(points);
  assert.deepEqual(points.map((q) => q.latency_ms), [10, 1]);
});

test("traces: all points, the front with its architectures, the derived one", () => {
  const data = { points: [p(0.5, 3, "c"), p(0.4, 1, "a"), p(0.3, 4, "z")],
    derived: { accuracy: 0.55, latency_ms: 3, architecture: { name: "d" } } };
  const [all, front, derived] = paretoTraces(data);
  assert.equal(all.x.length, 3);
  assert.deepEqual(front.x, [1, 3]);
  assert.deepEqual(front.y, [0.4, 0.5]);
  assert.deepEqual(front.customdata, [{ name: "a" }, { name: "c" }]);
  assert.deepEqual(derived.customdata, [{ name: "d" }]);
  assert.equal(paretoTraces({ points: data.points, derived: null }).length, 2);
});

test("layout marks the target", () => {
  assert.equal(paretoLayout(2.5).shapes[0].x0, 2.5);
  assert.equal(paretoLayout(undefined).shapes, undefined);
});
