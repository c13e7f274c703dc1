import { test } from "node:test";
import assert from "node:assert/strict";
import { rewardTraces } from "../static/js/charts/reward.js";
import { entropyTraces } from "../static/js/charts/entropy.js";
import { epochTraces } from "../static/js/charts/epochs.js";
import { confusionTraces } from "../static/js/charts/confusion.js";
import { classCountTraces } from "../static/js/charts/class_counts.js";
import { baseLayout } from "../static/js/charts/layout.js";

const steps = [
  { step: 1, reward: 0.2, baseline: 0.1, entropy: 2.5 },
  { step: 2, reward: 0.4, baseline: 0.15, entropy: 2.4 },
];

test("reward chart: reward markers and baseline line over steps", () => {
  const [reward, baseline] = rewardTraces(steps);
  assert.deepEqual(reward.x, [1, 2]);
  assert.deepEqual(reward.y, [0.2, 0.4]);
  assert.equal(reward.mode, "markers");
  assert.deepEqual(baseline.y, [0.1, 0.15]);
  assert.equal(baseline.mode, "lines");
});

test("entropy chart", () => {
  const [t] = entropyTraces(steps);
  assert.deepEqual(t.y, [2.5, 2.4]);
});

test("epoch chart: valid accuracy only when present, loss on the second axis", () => {
  const noValid = epochTraces([{ epoch: 1, loss: 2, accuracy: 0.3, valid_accuracy: null }]);
  assert.deepEqual(noValid.map((t) => t.name), ["train accuracy", "loss"]);
  assert.equal(noValid[1].yaxis, "y2");
  const withValid = epochTraces([{ epoch: 1, loss: 2, accuracy: 0.3, valid_accuracy: 0.25 },
    { epoch: 2, loss: 1.5, accuracy: 0.4 }]);
  assert.deepEqual(withValid.map((t) => t.name), ["train accuracy", "valid accuracy", "loss"]);
  assert.deepEqual(withValid[1].y, [0.25, null]);
});

test("confusion heatmap keeps class names and row percentages", () => {
  const [h] = confusionTraces([[3, 1], [0, 4]], ["cat", "dog"]);
  assert.equal(h.type, "heatmap");
  assert.deepEqual(h.x, ["cat", "dog"]);
  assert.equal(h.text[0][0], "3 (75%)");
  assert.equal(h.text[1][0], "0 (0%)");
});

test("class counts: one bar trace per split, or totals", () => {
  const split = classCountTraces({ class_names: ["a", "b"], counts: { a: 5, b: 3 },
    split_counts: { train: { a: 4, b: 2 }, test: { a: 1, b: 1 } } });
  assert.deepEqual(split.map((t) => t.name), ["train", "test"]);
  assert.deepEqual(split[0].y, [4, 2]);
  const total = classCountTraces({ class_names: ["a", "b"], counts: { a: 5, b: 3 } });
  assert.deepEqual(total[0].y, [5, 3]);
});

test("layouts keep a fixed uirevision so zoom survives updates", () => {
  assert.equal(baseLayout("y").uirevision, "keep");
  assert.equal(baseLayout("y", "epoch").xaxis.title.text, "epoch");
});
