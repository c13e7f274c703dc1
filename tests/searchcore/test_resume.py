"""Checkpoint/resume: a killed or cancelled search continues where its last checkpoint left it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from searchcore.config import SearchConfig
from searchcore.events import read_events
from searchcore.search.loop import run_search
from searchcore.search.store import CheckpointError, load_checkpoint, save_checkpoint

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "tests" / "fixtures" / "cifar10_tiny_png.zip"
STEPS = 30  # controller steps per epoch: a long enough window to kill inside epoch 2's controller phase
EPOCHS = 3


def _search_command(out: Path) -> list[str]:
    return [sys.executable, "-m", "searchcore", "search", "--space", "nb201", "--data", str(TINY),
            "--controller", "reinforce", "--evaluator", "shared", "--max-epochs", str(EPOCHS),
            "--space-option", "channels=4", "--space-option", "cells_per_stage=1", "--image-size", "16",
            "--batch-size", "16", "--controller-steps", str(STEPS), "--device", "cpu", "--out", str(out)]


def _env() -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": path}


def _max_step(path: Path) -> int:
    return max((e.payload["step"] for e in read_events(path) if e.type == "controller_step"), default=0)


def test_cli_search_killed_mid_epoch_resumes_without_gaps_or_duplicates(tmp_path: Path) -> None:
    out = tmp_path / "run"
    events_path = out / "events.jsonl"
    proc = subprocess.Popen(_search_command(out), cwd=ROOT, env=_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        # wait until epoch 1 is checkpointed and epoch 2's controller phase is under way, then kill
        while _max_step(events_path) < STEPS + 3:
            assert proc.poll() is None, "the search ended before it could be killed"
            assert time.monotonic() < deadline, "the search made no progress"
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert not (out / "result.json").exists()
    checkpoint = load_checkpoint(out / "checkpoint.pt")
    assert checkpoint["loop"]["epoch"] == 1 and checkpoint["loop"]["step"] == STEPS
    stale = read_events(events_path)
    assert stale[-1].seq > checkpoint["last_seq"]  # there are events after the checkpoint to drop

    done = subprocess.run(_search_command(out), cwd=ROOT, env=_env(), capture_output=True, text=True,
                          timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    events = read_events(events_path)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert [e.payload["epoch"] for e in events if e.type == "child_train"] == list(range(1, EPOCHS + 1))
    steps = [e.payload["step"] for e in events if e.type == "controller_step"]
    assert steps == list(range(1, EPOCHS * STEPS + 1))
    assert [e.payload["step"] for e in events if e.type == "arch_sampled"] == steps
    assert any(e.type == "status" and "resumed after epoch 1" in e.payload["message"] for e in events)
    assert events[-1].type == "finished" and events[-1].payload["status"] == "succeeded"
    result = json.loads((out / "result.json").read_text())
    assert result["status"] == "succeeded" and result["epochs"] == EPOCHS
    assert result["last_seq"] == events[-1].seq


def _comparable(path: Path) -> list[tuple]:
    """Events that depend only on the computation (not on wall-clock timing)."""
    keep = ("controller_step", "arch_sampled", "child_train", "best")
    return [(e.type, json.dumps(e.payload, sort_keys=True)) for e in read_events(path) if e.type in keep]


def test_cancelled_then_resumed_search_matches_an_uninterrupted_one(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    config = SearchConfig(space="nb201", data=str(TINY), space_options={"channels": 4, "cells_per_stage": 1},
                          evaluator="shared", controller="reinforce", max_epochs=3, image_size=16,
                          batch_size=16, controller_steps_per_epoch=6, derive_samples=2, device="cpu")
    straight = run_search(config, tmp_path / "a")

    polls = {"n": 0}

    def stop_in_epoch_two() -> bool:
        polls["n"] += 1
        return polls["n"] > 16  # epoch 1 polls 5 train + 6 controller steps

    checkpoints: list[int] = []
    cancelled = run_search(config, tmp_path / "b", should_stop=stop_in_epoch_two,
                           on_checkpoint=checkpoints.append)
    assert cancelled.status == "cancelled" and cancelled.epochs == 1 and len(checkpoints) == 1

    class TruncSink:
        def __init__(self) -> None:
            self.truncated: list[int] = []
            self.events: list = []

        def emit(self, event) -> None:
            self.events.append(event)

        def truncate_after(self, seq: int) -> None:
            self.truncated.append(seq)

    sink = TruncSink()
    resumed = run_search(config, tmp_path / "b", sink=sink)
    assert sink.truncated == checkpoints and sink.events[0].seq == checkpoints[0] + 1
    assert resumed.status == "succeeded" and resumed.epochs == 3
    assert _comparable(tmp_path / "b" / "events.jsonl") == _comparable(tmp_path / "a" / "events.jsonl")
    assert (resumed.best_arch, resumed.best_reward) == (straight.best_arch, straight.best_reward)
    assert resumed.elapsed_seconds > 0


def test_resume_with_other_settings_is_refused_without_touching_the_run(tmp_path: Path) -> None:
    table = ROOT / "tests" / "fixtures" / "nb201_cifar10.csv"
    config = SearchConfig(space="nb201", data=str(table), evaluator="benchmark", controller="random",
                          max_epochs=2, controller_steps_per_epoch=5)
    run_search(config, tmp_path, should_stop=lambda: (tmp_path / "checkpoint.pt").exists())  # after epoch 1
    before = (tmp_path / "events.jsonl").read_bytes()
    other = SearchConfig(**{**config.to_dict(), "seed": 1})
    with pytest.raises(CheckpointError, match="seed: 0 in the checkpoint, 1 now"):
        run_search(other, tmp_path)
    assert (tmp_path / "events.jsonl").read_bytes() == before


class _NotAllowed:
    """Any class outside the safe unpickler's allow-list."""


def test_checkpoint_is_atomic_and_loads_with_weights_only(tmp_path: Path) -> None:
    path = tmp_path / "c.pt"
    meta = {"epoch": 2, "ok": True}
    save_checkpoint(path, {"w": torch.arange(3), "rng": torch.get_rng_state(), "meta": meta})
    assert not (tmp_path / "c.pt.tmp").exists()
    state = load_checkpoint(path)
    assert torch.equal(state["w"], torch.arange(3)) and state["meta"] == meta

    torch.save({"x": _NotAllowed()}, tmp_path / "evil.pt")
    with pytest.raises(CheckpointError, match="cannot read checkpoint"):
        load_checkpoint(tmp_path / "evil.pt")
