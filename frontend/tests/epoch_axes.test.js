import { test } from "node:test";
import assert from "node:assert/strict";
import { EPOCH_AXES } from "../static/js/charts/epochs.js";

// Plotly formats tick labels with d3-format; this is its fixed-point and percent types ("f", "%"), with an
// optional precision (default 6) and "~" (trim insignificant zeros), enough for the epoch chart's axes.
function d3Format(spec) {
  const m = /^(?:\.(\d+))?(~?)([f%])$/.exec(spec);
  if (!m) throw new Error(`${spec} is outside the d3-format subset this test knows`);
  const precision = m[1] === undefined ? 6 : Number(m[1]);
  return (value) => {
    let text = (m[3] === "%" ? value * 100 : value).toFixed(precision);
    if (m[2] === "~" && text.includes(".")) text = text.replace(/0+$/, "").replace(/\.$/, "");
    return m[3] === "%" ? `${text}%` : text;
  };
}

// Plotly's linear ticks: multiples n * dtick of a step 1, 2 or 5 x 10^k (as it computes them, in floats).
function tickLabels(format, start, dtick, count = 8) {
  const first = Math.ceil(start / dtick - 1e-9);
  return Array.from({ length: count }, (_, i) => format((first + i) * dtick));
}

const STEPS = [0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001, 5e-4, 2e-4, 1e-4, 5e-5, 2e-5, 1e-5];

function assertDistinct(spec, starts) {
  const format = d3Format(spec);
  for (const start of starts) {
    for (const dtick of STEPS) {
      const labels = tickLabels(format, start, dtick);
      assert.equal(new Set(labels).size, labels.length, `${spec} from ${start} every ${dtick}: ${labels}`);
    }
  }
}

test("the test formatter is d3-format's: the old accuracy format printed close ticks alike", () => {
  assert.equal(d3Format(".2~f")(0.1005), "0.1");
  assert.equal(d3Format("~%")(0.1005), "10.05%");
  assert.equal(d3Format("~%")(0.30000000000000004), "30%");
  assert.equal(d3Format(".2%")(0.123456), "12.35%");
  assert.deepEqual(tickLabels(d3Format(".2~f"), 0.1, 5e-4, 3), ["0.1", "0.1", "0.1"]);
});

test("accuracy ticks read distinctly at every tick step, from chance to near 100 %", () => {
  assertDistinct(EPOCH_AXES.yaxis.tickformat, [0, 0.1, 0.0999, 0.5, 0.93]);
  assert.equal(d3Format(EPOCH_AXES.yaxis.tickformat)(0.25), "25%");
});

test("loss ticks read distinctly too, on round values of their own", () => {
  assertDistinct(EPOCH_AXES.yaxis2.tickformat, [0, 0.05, 2.3, 2.30258]);
  assert.equal(EPOCH_AXES.yaxis2.tickmode, "auto"); // not synced onto the accuracy axis's grid
  assert.equal(EPOCH_AXES.yaxis2.overlaying, "y");
});

test("hover shows an accuracy to a hundredth of a percent and a loss to four decimals", () => {
  assert.equal(d3Format(EPOCH_AXES.yaxis.hoverformat)(0.1013), "10.13%");
  assert.equal(d3Format(EPOCH_AXES.yaxis2.hoverformat)(2.302585), "2.3026");
});
