from __future__ import annotations

import json
import math

from searchcore.events import Emitter, JsonlSink, ListSink, read_events


def test_emitter_numbers_events_from_last_seq() -> None:
    sink = ListSink()
    emitter = Emitter(sink, last_seq=7)
    emitter.emit("log", level="info", message="a")
    emitter.emit("log", level="info", message="b")
    assert [e.seq for e in sink.events] == [8, 9]


def test_non_finite_numbers_become_null_so_the_event_is_strict_json(tmp_path) -> None:
    sink = JsonlSink(tmp_path / "events.jsonl")
    Emitter(sink).emit("controller_step", step=1, loss=math.nan, reward=math.inf,
                       nested={"values": [1.0, -math.inf]})
    line = (tmp_path / "events.jsonl").read_text().strip()
    data = json.loads(line, parse_constant=lambda name: (_ for _ in ()).throw(ValueError(name)))
    assert data["payload"] == {"step": 1, "loss": None, "reward": None, "nested": {"values": [1.0, None]}}


def test_truncate_after_drops_later_events_and_a_torn_line(tmp_path) -> None:
    sink = JsonlSink(tmp_path / "events.jsonl")
    emitter = Emitter(sink)
    for i in range(5):
        emitter.emit("log", level="info", message=str(i))
    with (tmp_path / "events.jsonl").open("a") as fh:
        fh.write('{"seq": 6, "ty')  # a line torn by a kill
    sink.truncate_after(3)
    assert [e.seq for e in read_events(tmp_path / "events.jsonl")] == [1, 2, 3]
