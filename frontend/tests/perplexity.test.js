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
