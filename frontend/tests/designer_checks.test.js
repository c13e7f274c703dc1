import { test } from "node:test";
import assert from "node:assert/strict";
import { checkDesign } from "../static/js/designer_checks.js";

const specs = [
  { name: "ops", type: "multichoice" },
  { name: "num_nodes", type: "int", min: 2, max: 7 },
];
// the shape of searchcore.compat.compatibility_table()
const compat = {
  "enas-micro": { task_kind: "image", evaluators: ["shared"],
    why_not: { benchmark: "the benchmark evaluator works only with the nb201 space(s)" },
    needs_dataset: { shared: true, benchmark: false } },
  nb201: { task_kind: "image", evaluators: ["shared", "benchmark"], why_not: {},
    needs_dataset: { shared: true, benchmark: false } },
};
const base = { space: "enas-micro", evaluator: "shared", dataset: "3", specs,
  options: { ops: ["sep3"], num_nodes: 4 } };

test("a valid design has no errors", () => {
  assert.deepEqual(checkDesign(base, compat), {});
});

test("no op selected is reported on the option", () => {
  const errors = checkDesign({ ...base, options: { ...base.options, ops: [] } }, compat);
  assert.equal(errors["option:ops"], "select at least one");
});

test("numbers are range-checked", () => {
  assert.match(checkDesign({ ...base, options: { ops: ["x"], num_nodes: 9 } }, compat)["option:num_nodes"], /at most 7/);
  assert.match(checkDesign({ ...base, options: { ops: ["x"], num_nodes: 2.5 } }, compat)["option:num_nodes"], /whole/);
});

test("benchmark evaluator needs the nb201 space but no dataset", () => {
  const bad = checkDesign({ ...base, evaluator: "benchmark", dataset: "" }, compat);
  assert.match(bad.evaluator, /nb201/);
  assert.equal(bad.dataset, undefined);
  const ok = checkDesign({ ...base, space: "nb201", evaluator: "benchmark", dataset: "", specs: [], options: {} }, compat);
  assert.deepEqual(ok, {});
});

test("other evaluators need a dataset", () => {
  assert.match(checkDesign({ ...base, dataset: "" }, compat).dataset, /dataset/);
});

test("the reason comes from the compatibility table, not a rule of its own", () => {
  const table = { ...compat, nb201: { ...compat.nb201, evaluators: ["shared"],
    why_not: { benchmark: "the benchmark evaluator does not score this space" } } };
  const errors = checkDesign({ ...base, space: "nb201", evaluator: "benchmark", dataset: "", specs: [], options: {} }, table);
  assert.equal(errors.evaluator, "The benchmark evaluator does not score this space.");
  const lm = { ...compat, "enas-micro": { ...compat["enas-micro"], needs_dataset: { shared: false } } };
  assert.equal(checkDesign({ ...base, dataset: "" }, lm).dataset, undefined);
});

test("a dataset of another task kind is refused on the dataset field", () => {
  const withRnn = { ...compat, "enas-rnn": { task_kind: "language", evaluators: ["shared"], why_not: {},
    needs_dataset: { shared: true, benchmark: false } } };
  const text = { ...base, datasetKind: "language" };
  assert.equal(checkDesign(text, withRnn).dataset,
    "The enas-micro space does image classification; this dataset is for language modelling.");
  assert.deepEqual(checkDesign({ ...text, space: "enas-rnn", specs: [], options: {} }, withRnn), {});
  assert.deepEqual(checkDesign({ ...base, datasetKind: "image" }, withRnn), {});
});
