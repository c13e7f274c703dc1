"""The ``scratch`` evaluator (issue 8 item 5): every child trained standalone from scratch.

On the committed tiny fixture (100 CIFAR-10 images) at 8 px: a child job is self-contained JSON
(it runs from the file alone and gives the same reward twice), a search with m = 2 children of
one epoch runs end to end, a repeated architecture is not trained again, a stop reaches inside a
child, and a search interrupted between controller steps resumes where it stopped.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import torch

from searchcore.config import SearchConfig
from searchcore.data import load_task_data
from searchcore.evaluators import (
    EvaluatorContext,
    InProcessExecutor,
    Job,
    JobHooks,
    create_evaluator,
    run_job,
    scratch_job,
)
from searchcore.evaluators.data_ref import data_reference, forget_all, load_referenced
from searchcore.evaluators.scratch_job import ChildSettings, run_scratch_job
from searchcore.events import ListSink
from searchcore.search import loop as search_loop
from searchcore.search.loop import run_search
from searchcore.spaces import create_space

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "cifar10_tiny_png.zip"
SPACE_OPTIONS = {"num_layers": 2, "channels": 8, "filter_counts": ["24"]}
SIDE = 8


@pytest.fixture(scope="module")
def data() -> Any:
    return load_task_data("image", TINY, image_size=SIDE, seed=0)


def _space() -> Any:
    return create_space("nas-rl-cnn", **SPACE_OPTIONS)


def _job(data: Any, arch_json: dict[str, Any], **settings: Any) -> Job:
    base = {"space_options": SPACE_OPTIONS, "data": data_reference("image", TINY, data, 0), "seed": 3,
            "epochs": 1, "batch_size": 16}
    return Job("scratch", arch_json, ChildSettings(**{**base, **settings}).to_dict())


def _arch(seed: int = 0) -> dict[str, Any]:
    space = _space()
    return space.arch_to_json(space.sample_random(torch.Generator().manual_seed(seed)))


def test_a_child_job_runs_from_its_json_alone_and_repeats_exactly(data: Any) -> None:
    job = _job(data, _arch(), epochs=2)
    wire = json.loads(json.dumps(job.to_dict()))  # what a remote worker receives
    forget_all()  # nothing loaded in this process: the job loads the zip from its reference
    first = run_job(wire)
    assert load_referenced(job.settings["data"]).image_size == SIDE
    second = run_job(wire)
    assert set(first) == {"reward", "valid_accuracy", "seconds", "epochs"}
    assert first["epochs"] == 2.0 and 0.0 <= first["valid_accuracy"] <= 1.0
    assert first["reward"] == first["valid_accuracy"] == second["reward"]


def test_the_cubed_reward_is_the_cube_of_the_validation_accuracy(data: Any) -> None:
    plain = run_job(_job(data, _arch()))
    cubed = run_job(_job(data, _arch(), cube_reward=True))
    assert cubed["valid_accuracy"] == plain["valid_accuracy"]
    assert math.isclose(cubed["reward"], plain["valid_accuracy"] ** 3)


def test_a_child_job_leaves_the_callers_random_state_alone(data: Any) -> None:
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    run_job(_job(data, _arch()))
    assert torch.equal(torch.rand(3), expected)


def test_a_stop_reaches_inside_a_child_and_progress_is_reported(data: Any) -> None:
    fractions: list[float] = []
    polls = {"n": 0}

    def stop_after_a_few_batches() -> bool:
        polls["n"] += 1
        return polls["n"] > 3

    with pytest.raises(scratch_job.JobCancelled):
        run_scratch_job(_job(data, _arch(), epochs=50), JobHooks(stop_after_a_few_batches, fractions.append))
    assert polls["n"] == 4  # it stopped at the first poll that said so, long before 50 epochs

    run_scratch_job(_job(data, _arch(), epochs=2), JobHooks(on_progress=fractions.append))
    assert fractions and all(0.0 <= f <= 1.0 for f in fractions) and max(fractions) > 0.4


def test_the_executor_turns_a_cancelled_child_into_no_result(data: Any) -> None:
    executor = InProcessExecutor()
    ticket = executor.submit([_job(data, _arch(), epochs=50)])
    polls = {"n": 0}

    def stop_soon() -> bool:
        polls["n"] += 1
        return polls["n"] > 2

    assert executor.wait(ticket, stop_soon) is None


@pytest.mark.parametrize(("settings", "message"), [
    ({"epochs": None, "seconds": None}, "a number of epochs or of seconds"),
    ({"epochs": 0}, "must be positive"),
    ({"seconds": -1.0}, "must be positive"),
    ({"batch_size": 0}, "batch_size must be at least 1"),
])
def test_bad_child_settings_are_refused(data: Any, settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _job(data, _arch(), **settings)


def test_a_job_with_unknown_settings_or_a_missing_file_is_refused(data: Any, tmp_path: Path) -> None:
    job = _job(data, _arch())
    with pytest.raises(ValueError, match="unknown scratch job setting"):
        run_job(Job("scratch", job.arch, {**job.settings, "colour": "red"}))
    missing = {**job.settings, "data": {**job.settings["data"], "path": str(tmp_path / "gone.zip")}}
    with pytest.raises(FileNotFoundError, match="does not exist"):
        run_job(Job("scratch", job.arch, missing))


class CountingExecutor(InProcessExecutor):
    def __init__(self) -> None:
        self.jobs: list[Job] = []

    def submit(self, jobs):  # type: ignore[no-untyped-def]
        self.jobs.extend(jobs)
        return super().submit(jobs)


def test_the_evaluator_trains_a_repeated_architecture_once_and_keeps_scores(data: Any) -> None:
    executor = CountingExecutor()
    context = EvaluatorContext(space=_space(), device=torch.device("cpu"), seed=0, data=data,
                               executor=executor, data_ref=data_reference("image", TINY, data, 0))
    evaluator = create_evaluator("scratch", context=context, child_epochs=1, batch_size=16)
    a, b = _space().arch_from_json(_arch(0)), _space().arch_from_json(_arch(1))
    first = evaluator.wait(evaluator.submit([a, b, a]), lambda: False)
    assert len(executor.jobs) == 2 and first[0] == first[2]
    again = evaluator.wait(evaluator.submit([b]), lambda: False)
    assert len(executor.jobs) == 2 and again == [first[1]]

    restored = create_evaluator("scratch", context=context, child_epochs=1, batch_size=16)
    restored.load_state_dict(evaluator.state_dict())  # a resumed search keeps what was trained
    assert restored.wait(restored.submit([a]), lambda: False) == [first[0]] and len(executor.jobs) == 2
    assert restored.metrics_of(a)["valid_accuracy"] == first[0]


def test_the_evaluator_needs_a_data_reference_and_takes_epochs_or_seconds(data: Any) -> None:
    context = EvaluatorContext(space=_space(), device=torch.device("cpu"), seed=0, data=data)
    with pytest.raises(ValueError, match="data_ref"):
        create_evaluator("scratch", context=context)
    with_ref = EvaluatorContext(space=_space(), device=torch.device("cpu"), seed=0, data=data,
                                data_ref=data_reference("image", TINY, data, 0))
    seconds_only = create_evaluator("scratch", context=with_ref, child_epochs=None, child_seconds=30.0)
    assert (seconds_only.settings.epochs, seconds_only.settings.seconds) == (None, 30.0)
    neither = create_evaluator("scratch", context=with_ref, child_epochs=None, child_seconds=None)
    assert (neither.settings.epochs, neither.settings.seconds) == (5, None)


def _config(**overrides: Any) -> SearchConfig:
    settings: dict[str, Any] = {
        "space": "nas-rl-cnn", "data": str(TINY), "space_options": SPACE_OPTIONS, "evaluator": "scratch",
        "evaluator_options": {"child_epochs": 1, "batch_size": 16}, "controller": "reinforce",
        "archs_per_step": 2, "max_epochs": 1, "controller_steps_per_epoch": 3, "image_size": SIDE,
        "device": "cpu", "seed": 5}
    settings.update(overrides)
    return SearchConfig(**settings)


def test_a_scratch_search_trains_m_children_per_controller_step_end_to_end(tmp_path: Path) -> None:
    sink = ListSink()
    result = run_search(_config(), tmp_path, sink=sink)
    assert result.status == "succeeded"
    steps = [e.payload for e in sink.events if e.type == "controller_step"]
    sampled = [e.payload for e in sink.events if e.type == "arch_sampled"]
    assert len(steps) == 3 and len(sampled) == 6  # m = 2 children per controller step
    assert all(0.0 <= p["reward"] <= 1.0 for p in sampled)
    stored = json.loads((tmp_path / "result.json").read_text())
    assert stored["space"] == "nas-rl-cnn" and stored["best"]["architecture"]["space"] == "nas-rl-cnn"
    assert not any(e.type == "child_train" for e in sink.events)  # no shared weights were trained
    fractions = [e.payload["fraction"] for e in sink.events if e.type == "progress"]
    assert fractions == sorted(fractions)


def test_a_scratch_search_stopped_between_steps_resumes_there(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    config = _config(max_epochs=2, controller_steps_per_epoch=2, archs_per_step=1)
    straight = run_search(config, tmp_path / "a")

    monkeypatch.setattr(search_loop, "STEP_CHECKPOINT_S", 0.0)  # checkpoint after every controller step
    checkpoints: list[int] = []
    stop = {"now": False}
    real_record = search_loop.SearchLoop._record

    def record_then_stop(self, arch, reward, cost=None):  # type: ignore[no-untyped-def]
        real_record(self, arch, reward, cost)
        stop["now"] = self.state.step >= 3  # the first step of the second epoch is done

    monkeypatch.setattr(search_loop.SearchLoop, "_record", record_then_stop)
    cancelled = run_search(config, tmp_path / "b", should_stop=lambda: stop["now"],
                           on_checkpoint=checkpoints.append)
    assert cancelled.status == "cancelled"
    state = torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=True)
    assert state["loop"]["epoch_steps"] == 1 and state["loop"]["step"] == 3

    monkeypatch.setattr(search_loop.SearchLoop, "_record", real_record)
    resumed = run_search(config, tmp_path / "b")
    assert resumed.status == "succeeded" and resumed.epochs == 2
    assert (resumed.best_arch, resumed.best_reward) == (straight.best_arch, straight.best_reward)
    steps = [json.loads(line) for line in (tmp_path / "b" / "events.jsonl").read_text().splitlines()]
    assert [e["payload"]["step"] for e in steps if e["type"] == "controller_step"] == [1, 2, 3, 4]
