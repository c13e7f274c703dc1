import { test } from "node:test";
import assert from "node:assert/strict";
import { checkDesign } from "../static/js/designer_checks.js";

const specs = [
  { name: "ops", type: "multichoice" },
  { name: "num_nodes", type: "int", min: 2, max: 7 },
];
const base = { space: "enas-micro", evaluator: "shared", dataset: "3", specs,
  options: { ops: ["sep3"], num_nodes: 4 } };

test("a valid design has no errors", () => {
  assert.deepEqual(checkDesign(base, ["nb201"]), {});
});

test("no op selected is reported on the option", () => {
  const errors = checkDesign({ ...base, options: { ...base.options, ops: [] } }, ["nb201"]);
  assert.equal(errors["option:ops"], "select at least one");
});

test("numbers are range-checked", () => {
  assert.match(checkDesign({ ...base, options: { ops: ["x"], num_nodes: 9 } }, ["nb201"])["option:num_nodes"], /at most 7/);
  assert.match(checkDesign({ ...base, options: { ops: ["x"], num_nodes: 2.5 } }, ["nb201"])["option:num_nodes"], /whole/);
});

test("benchmark evaluator needs the nb201 space but no dataset", () => {
  const bad = checkDesign({ ...base, evaluator: "benchmark", dataset: "" }, ["nb201"]);
  assert.match(bad.evaluator, /nb201/);
  assert.equal(bad.dataset, undefined);
  const ok = checkDesign({ ...base, space: "nb201", evaluator: "benchmark", dataset: "", specs: [], options: {} }, ["nb201"]);
  assert.deepEqual(ok, {});
});

test("other evaluators need a dataset", () => {
  assert.match(checkDesign({ ...base, dataset: "" }, ["nb201"]).dataset, /dataset/);
});
