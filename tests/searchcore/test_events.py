from __future__ import annotations

import dataclasses
import json
import math

import pytest

from searchcore.events import (
    EVENT_CLASSES,
    EVENT_TYPES,
    ControllerStep,
    Emitter,
    Evaluation,
    Event,
    JsonlSink,
    ListSink,
    Progress,
    Status,
    event_data,
    json_safe,
    read_events,
)
from searchcore.events.catalogue import COMMAND, catalogue, example, stale_outputs

STEP = {"step": 1, "archs_evaluated": 1, "reward": 0.5, "baseline": 0.4, "entropy": 1.2, "loss": 0.1,
        "log_prob": -3.0}


def test_emitter_numbers_events_from_last_seq() -> None:
    sink = ListSink()
    emitter = Emitter(sink, last_seq=7)
    emitter.emit("log", level="info", message="a")
    emitter.emit("log", level="info", message="b")
    assert [e.seq for e in sink.events] == [8, 9]


def test_non_finite_numbers_become_null_so_the_event_is_strict_json(tmp_path) -> None:
    sink = JsonlSink(tmp_path / "events.jsonl")
    emitter = Emitter(sink)
    emitter.emit("controller_step", **{**STEP, "loss": math.nan, "reward": math.inf})
    emitter.emit("evaluation", metrics={"values": [1.0, -math.inf]})
    lines = (tmp_path / "events.jsonl").read_text().splitlines()
    data = [json.loads(line, parse_constant=lambda name: (_ for _ in ()).throw(ValueError(name)))
            for line in lines]
    assert data[0]["payload"] == {**STEP, "loss": None, "reward": None}
    assert data[1]["payload"] == {"metrics": {"values": [1.0, None]}}
    read = read_events(tmp_path / "events.jsonl")[0].data  # a float field without null reads back as NaN
    assert isinstance(read, ControllerStep) and math.isnan(read.loss) and math.isnan(read.reward)


def test_truncate_after_drops_later_events_and_a_torn_line(tmp_path) -> None:
    sink = JsonlSink(tmp_path / "events.jsonl")
    emitter = Emitter(sink)
    for i in range(5):
        emitter.emit("log", level="info", message=str(i))
    with (tmp_path / "events.jsonl").open("a") as fh:
        fh.write('{"seq": 6, "ty')  # a line torn by a kill
    sink.truncate_after(3)
    assert [e.seq for e in read_events(tmp_path / "events.jsonl")] == [1, 2, 3]


@pytest.mark.parametrize("type_", EVENT_TYPES)
def test_every_type_round_trips_typed_dict_typed(type_: str) -> None:
    typed = example(EVENT_CLASSES[type_])
    event = Emitter(ListSink()).emit(typed)
    wire = json.loads(json.dumps(event.to_dict()))
    assert set(wire) == {"seq", "type", "time", "payload"} and wire["type"] == type_
    back = Event.from_dict(wire)
    assert back.data == typed and type(back.data) is EVENT_CLASSES[type_]
    assert back.payload == typed.to_payload() == wire["payload"]  # payload stays the plain dict


def test_keywords_and_a_typed_object_give_the_same_payload() -> None:
    sink = ListSink()
    Emitter(sink).emit("controller_step", **STEP)
    Emitter(sink).emit(ControllerStep(**STEP))
    assert sink.events[0].payload == sink.events[1].payload == STEP
    with pytest.raises(TypeError, match="not both"):
        Emitter(sink).emit(ControllerStep(**STEP), step=2)


@pytest.mark.parametrize(("type_", "payload", "error", "match"), [
    ("controller_step", {**STEP, "nested": {}}, TypeError, "controller_step event: unknown field 'nested'"),
    ("controller_step", {k: v for k, v in STEP.items() if k != "reward"}, TypeError,
     "controller_step event: missing required field 'reward'"),
    ("controller_step", {**STEP, "step": "1"}, TypeError, "controller_step event: field 'step' must be int"),
    ("controller_step", {**STEP, "step": True}, TypeError, "field 'step' must be int"),
    ("finished", {"status": "done", "message": "", "best": None}, ValueError,
     "finished event: field 'status' must be one of \"succeeded\""),
    ("log", {"level": "info"}, TypeError, "log event: missing required field 'message'"),
    ("best", {"step": 1, "architecture": [], "reward": 1.0, "graph": {}}, TypeError,
     "best event: field 'architecture' must be dict"),
    ("status", {"status": "running", "message": "", "resumed_after": "3"}, TypeError,
     "status event: field 'resumed_after' must be int"),
])
def test_a_wrong_field_fails_naming_the_type_and_field(type_, payload, error, match) -> None:
    sink = ListSink()
    with pytest.raises(error, match=match):
        Emitter(sink).emit(type_, **payload)
    assert sink.events == []  # nothing half-emitted
    with pytest.raises(error, match=match):
        event_data(type_, payload)


def test_an_unknown_type_fails() -> None:
    with pytest.raises(ValueError, match="unknown event type 'bogus'"):
        Emitter(ListSink()).emit("bogus", a=1)
    with pytest.raises(ValueError, match="unknown event type"):
        _ = Event(seq=1, type="bogus", time=0.0, payload={}).data


def test_optional_fields_are_left_out_unless_tied_to_a_written_one() -> None:
    assert Status(status="running", message="m").to_payload() == {"status": "running", "message": "m"}
    ended = Status(status="search_ended", message="m", search_status="cancelled", best=None)
    assert ended.to_payload() == {"status": "search_ended", "message": "m", "search_status": "cancelled",
                                  "best": None}
    base = {"phase": "final", "fraction": 0.5, "eta_seconds": None, "epoch": 1, "archs_evaluated": 0,
            "elapsed_seconds": 1.0}
    assert Progress(**base).to_payload() == base
    overall = Progress(**base, overall_fraction=0.9, total_elapsed_seconds=3.0).to_payload()
    assert overall == {**base, "overall_fraction": 0.9, "overall_eta_seconds": None,
                       "total_elapsed_seconds": 3.0}
    assert Progress.from_payload(overall).to_payload() == overall


def test_typed_payloads_are_frozen() -> None:
    data = ControllerStep(**STEP)
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.step = 2  # type: ignore[misc]
    assert Evaluation(metrics={"a": 1}).to_payload() == {"metrics": {"a": 1}}


def test_the_catalogue_lists_every_type_with_a_valid_example() -> None:
    entries = catalogue()
    assert [e["type"] for e in entries] == list(EVENT_TYPES)
    for entry in entries:
        cls = EVENT_CLASSES[entry["type"]]
        assert [f["name"] for f in entry["fields"]] == [f.name for f in dataclasses.fields(cls)]
        assert all(f["doc"] for f in entry["fields"]) and entry["doc"]
        assert event_data(entry["type"], entry["example"]).to_payload() == json_safe(entry["example"])
    progress = {f["name"]: f for f in entries[1]["fields"]}
    assert progress["eta_seconds"] == {"name": "eta_seconds", "type": "float | null", "required": True,
                                       "nullable": True, "present_with": None,
                                       "doc": "the stage's estimated seconds left; null while unknown"}
    assert progress["overall_fraction"]["type"] == "float" and not progress["overall_fraction"]["required"]


def test_generated_docs_and_browser_list_are_current() -> None:
    stale = stale_outputs()
    assert not stale, f"{', '.join(stale)} stale: run `.venv/bin/{COMMAND}`"


def test_every_event_of_a_real_benchmark_search_validates(tmp_path) -> None:
    from pathlib import Path

    from searchcore.config import SearchConfig
    from searchcore.search.loop import run_search

    table = Path(__file__).resolve().parents[1] / "fixtures" / "nb201_cifar10.csv"
    sink = ListSink()
    for emit_finished in (True, False):
        config = SearchConfig(space="nb201", data=str(table), evaluator="benchmark", controller="reinforce",
                              max_archs=20, controller_steps_per_epoch=5)
        run_search(config, tmp_path / str(emit_finished), sink=sink, emit_finished=emit_finished)
    types = {e.type for e in sink.events}
    assert {"status", "progress", "controller_step", "arch_sampled", "best", "finished"} <= types
    for event in sink.events:
        assert json_safe(event.data.to_payload()) == event.payload
