"""A real (tiny) shared-weights search with a latency target: the reward the controller learns from
and derive chooses by is accuracy × (latency / target)^w, and the events say both factors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from searchcore.config import SearchConfig
from searchcore.events import ListSink
from searchcore.search.cost import LatencyReward
from searchcore.search.loop import SearchLoop, run_search
from searchcore.search.resume import read_checkpoint
from searchcore.search.store import CHECKPOINT_NAME

TINY = Path(__file__).resolve().parents[2] / "fixtures" / "cifar10_tiny_png.zip"
TARGET, WEIGHT = 50.0, -0.3


def _key(arch_json: dict[str, Any]) -> str:
    return json.dumps(arch_json, sort_keys=True)


@pytest.fixture
def measured(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The architectures (canonical JSON) whose child latency is timed, in order; still really timed."""
    timed: list[str] = []
    real_measure = LatencyReward.measure

    def measure(self: LatencyReward, arch: Any) -> float:
        timed.append(_key(self.space.arch_to_json(arch)))
        return real_measure(self, arch)

    monkeypatch.setattr(LatencyReward, "measure", measure)
    return timed


def test_a_search_with_a_latency_target_shapes_every_reward(tmp_path: Path, measured: list[str]) -> None:
    config = SearchConfig(space="nb201", data=str(TINY), space_options={"channels": 4, "cells_per_stage": 1},
                          evaluator="shared", controller="reinforce", max_epochs=1, image_size=16,
                          batch_size=16, controller_steps_per_epoch=3, archs_per_step=2, derive_samples=3,
                          device="cpu", latency_target_ms=TARGET, latency_weight=WEIGHT)
    sink = ListSink()
    result = run_search(config, tmp_path, sink=sink)
    assert result.status == "succeeded"

    sampled = [e.payload for e in sink.events if e.type == "arch_sampled"]
    assert len(sampled) == 6
    latency_of: dict[str, float] = {}
    for p in sampled:
        assert p["latency_ms"] > 0 and 0.0 <= p["accuracy"] <= 1.0
        assert p["reward"] == pytest.approx(p["accuracy"] * (p["latency_ms"] / TARGET) ** WEIGHT)
        assert latency_of.setdefault(_key(p["architecture"]), p["latency_ms"]) == p["latency_ms"]
    assert len(measured) == len(set(measured)), "an architecture was measured twice"
    assert set(latency_of) <= set(measured)

    steps = [e.payload for e in sink.events if e.type == "controller_step"]
    for i, step in enumerate(steps):  # the controller learnt from the shaped rewards
        assert step["reward"] == pytest.approx(sum(p["reward"] for p in sampled[2 * i:2 * i + 2]) / 2)

    derived = [e.payload for e in sink.events if e.type == "best" and e.payload.get("derived")]
    assert len(derived) == 1
    best = derived[0]
    assert _key(best["architecture"]) in measured
    assert best["reward"] == pytest.approx(best["accuracy"] * (best["latency_ms"] / TARGET) ** WEIGHT)
    assert best["latency_ms"] == latency_of.get(_key(best["architecture"]), best["latency_ms"])
    assert result.best_reward == pytest.approx(best["reward"])


def test_without_a_target_no_latency_is_measured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def measure(self: LatencyReward, arch: Any) -> float:
        raise AssertionError("measured without a latency target")

    monkeypatch.setattr(LatencyReward, "measure", measure)
    config = SearchConfig(space="nb201", data=str(TINY), space_options={"channels": 4, "cells_per_stage": 1},
                          evaluator="shared", controller="random", max_epochs=1, image_size=16,
                          batch_size=16, controller_steps_per_epoch=2, derive_samples=1, device="cpu")
    sink = ListSink()
    run_search(config, tmp_path, sink=sink)
    for event in sink.events:
        if event.type in ("arch_sampled", "best"):
            assert "latency_ms" not in event.payload and "accuracy" not in event.payload


def test_a_resumed_search_keeps_the_latencies_it_measured(tmp_path: Path, measured: list[str]) -> None:
    """The cache is in the checkpoint: after a pause at the first epoch's checkpoint, the resumed loop
    knows every latency measured before it without timing any architecture again."""
    config = SearchConfig(space="nb201", data=str(TINY), space_options={"channels": 4, "cells_per_stage": 1},
                          evaluator="shared", controller="reinforce", max_epochs=2, image_size=16,
                          batch_size=16, controller_steps_per_epoch=3, archs_per_step=2, derive_samples=2,
                          device="cpu", latency_target_ms=TARGET, latency_weight=WEIGHT)
    checkpoints: list[int] = []
    sink = ListSink()
    paused = run_search(config, tmp_path, sink=sink, on_checkpoint=checkpoints.append,
                        should_pause=lambda: bool(checkpoints))
    assert paused.status == "paused" and measured, paused
    timed = {_key(e.payload["architecture"]): (e.payload["architecture"], e.payload["latency_ms"])
             for e in sink.events if e.type == "arch_sampled" and e.seq <= checkpoints[-1]}
    assert timed

    loop = SearchLoop(config, tmp_path)
    loop.setup(read_checkpoint(tmp_path / CHECKPOINT_NAME, config.to_dict(), str(tmp_path)))
    measured.clear()
    space = loop.parts.space
    for arch_json, latency in timed.values():
        assert loop.cost.latency(space.arch_from_json(arch_json)) == latency
    assert measured == [], "the resumed loop timed an architecture it had measured before the pause"
    loop.close()
    result = run_search(config, tmp_path)
    assert result.status == "succeeded"
