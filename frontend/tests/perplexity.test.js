import { test } from "node:test";
import assert from "node:assert/strict";
import { PERPLEXITY_AXES, perplexityTraces } from "../static/js/charts/epochs.js";

test("train perplexity is exp(loss) unless the row has it; valid perplexity only when reported", () => {
  const traces = perplexityTraces([{ epoch: 1, loss: Math.log(200) }, { epoch: 2, loss: null }]);
  assert.equal(traces.length, 1);
  assert.equal(traces[0].name, "train perplexity");
  assert.ok(Math.abs(traces[0].y[0] - 200) < 1e-9);
  assert.equal(traces[0].y[1], null);
  const history = perplexityTraces([{ epoch: 1, loss: 5, perplexity: 150, valid_perplexity: 180 },
    { epoch: 2, loss: 4.5, perplexity: 90, valid_perplexity: null }]);
  assert.deepEqual(history.map((t) => t.name), ["train perplexity", "valid perplexity"]);
  assert.deepEqual(history[0].y, [150, 90]);
  assert.deepEqual(history[1].y, [180, null]);
  assert.equal(PERPLEXITY_AXES.yaxis.type, "log");
});

test("the search phase draws the unigram baseline and flags rewards at noise level", async () => {
  const { noiseText } = await import("../static/js/charts/epochs.js");
  const rows = [{ epoch: 1, loss: 6.3, valid_perplexity: 560.2, baseline_perplexity: 380.4, at_noise_level: true }];
  const traces = perplexityTraces(rows);
  assert.deepEqual(traces.map((t) => t.name), ["train perplexity", "valid perplexity", "unigram baseline"]);
  assert.deepEqual(traces[2].y, [380.4]);
  assert.equal(traces[2].line.dash, "dash");
  const text = noiseText(rows);
  assert.ok(text.startsWith("Rewards at noise level: after epoch 1"), text);
  assert.ok(text.includes("560.2") && text.includes("380.4"), text);
  // the latest epoch decides: learned past the baseline, no flag; no validation reported, no flag
  assert.equal(noiseText([...rows, { epoch: 2, valid_perplexity: 200.0, baseline_perplexity: 380.4,
    at_noise_level: false }]), "");
  assert.equal(noiseText([{ epoch: 1, loss: 2.0 }]), "");
  assert.equal(perplexityTraces([{ epoch: 1, loss: 2.0 }]).length, 1);
});
