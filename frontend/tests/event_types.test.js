// Every event type searchcore declares (event_types.json is generated from its dataclasses, with one
// example payload per type) goes through the live store: handled with the expected change, or listed
// as deliberately ignored.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { HANDLED_TYPES, IGNORED_TYPES, createStore, ingest, takeDirty } from "../static/js/live_store.js";

const { types } = JSON.parse(readFileSync(new URL("../static/js/event_types.json", import.meta.url), "utf8"));
const example = (entry) => ({ seq: 1, type: entry.type, time: 10.5, payload: entry.example });

// What each handled type must change in the store (state part, dirty parts).
const EXPECTED = {
  status: (s, p) => [s.status.status === p.status && s.logs.length === 1, ["log", "status"]],
  progress: (s, p) => [s.progress.fraction === p.fraction && s.searchProgress.phase === p.phase,
    ["progress", "status"]],
  controller_step: (s, p) => [s.steps.length === 1 && s.steps[0].reward === p.reward, ["controller"]],
  child_train: (s, p) => [s.childEpochs.length === 1 && s.childEpochs[0].loss === p.loss, ["child"]],
  arch_sampled: (s, p) => [s.sampled.reward === p.reward, ["sampled"]],
  best: (s, p) => [s.best.reward === p.reward && s.best.derived === p.derived, ["best"]],
  final_epoch: (s, p) => [s.finalEpochs.length === 1 && s.finalEpochs[0].lr === p.lr, ["final"]],
  evaluation: (s, p) => [s.evaluation.metrics === p.metrics, ["evaluation"]],
  log: (s, p) => [s.logs[0].message === p.message && s.logs[0].level === p.level, ["log"]],
  plan: (s, p) => [s.plans[p.phase].message === p.message && s.logs[0].message.includes(p.message), ["log", "plan"]],
  finished: (s, p) => [s.finished.status === p.status && s.logs.length === 1, ["finished", "log"]],
  child: (s, p) => [s.children[`${p.step}.${p.index}`].state === p.state, ["children"]],
};

test("the generated list names every type once, and the store knows each one", () => {
  const names = types.map((t) => t.type);
  assert.ok(names.length >= 10 && new Set(names).size === names.length);
  for (const name of names) {
    assert.ok(HANDLED_TYPES.includes(name) !== IGNORED_TYPES.includes(name), `${name}: handle it or list it as ignored`);
  }
  for (const name of [...HANDLED_TYPES, ...IGNORED_TYPES]) assert.ok(names.includes(name), `${name} is no event type`);
});

for (const entry of types) {
  test(`a ${entry.type} event changes the store as expected`, () => {
    const s = createStore();
    assert.equal(ingest(s, example(entry)), true);
    const dirty = [...takeDirty(s)].sort();
    if (IGNORED_TYPES.includes(entry.type)) {
      assert.deepEqual(dirty, []);
      return;
    }
    assert.ok(EXPECTED[entry.type], `${entry.type}: add its expected change to this test`);
    const [changed, parts] = EXPECTED[entry.type](s, entry.example);
    assert.ok(changed, `${entry.type}: the store did not take the example payload`);
    assert.deepEqual(dirty, [...parts].sort());
  });
}
