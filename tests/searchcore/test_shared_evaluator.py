"""The ENAS weight-sharing evaluator and the search loop around it, on the tiny PNG fixture."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from searchcore.config import SearchConfig
from searchcore.data import load_image_dataset
from searchcore.evaluators import EvaluatorContext, create_evaluator
from searchcore.events import read_events
from searchcore.search.loop import run_search
from searchcore.search.store import load_checkpoint, save_checkpoint
from searchcore.spaces import create_space

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TINY = FIXTURES / "cifar10_tiny_png.zip"
TINY_OPTIONS = {
    "nb201": {"channels": 4, "cells_per_stage": 1},
    "enas-micro": {"num_nodes": 2, "cells_per_stage": 1, "channels": 4},
    "enas-macro": {"num_layers": 3, "channels": 4},
}


@pytest.fixture(scope="module")
def data():
    return load_image_dataset(TINY, image_size=16, seed=0)


def _evaluator(data, space_name: str = "nb201", budget_fraction=lambda: 0.0, **options):
    space = create_space(space_name, **TINY_OPTIONS[space_name])
    ctx = EvaluatorContext(space=space, device=torch.device("cpu"), seed=0, data=data,
                           budget_fraction=budget_fraction)
    return space, create_evaluator("shared", context=ctx, batch_size=8, **options)


@pytest.mark.parametrize("space_name", sorted(TINY_OPTIONS))
def test_shared_search_runs_end_to_end(tmp_path: Path, space_name: str) -> None:
    torch.set_num_threads(1)
    config = SearchConfig(space=space_name, data=str(TINY), space_options=TINY_OPTIONS[space_name],
                          evaluator="shared", controller="reinforce", max_epochs=2, image_size=16,
                          batch_size=16, controller_steps_per_epoch=4, derive_samples=3)
    result = run_search(config, tmp_path)
    events = read_events(tmp_path / "events.jsonl")
    assert [e.seq for e in events] == list(range(1, len(events) + 1)) and events[-1].type == "finished"
    assert result.status == "succeeded" and result.epochs == 2
    child = [e.payload for e in events if e.type == "child_train"]
    assert [c["epoch"] for c in child] == [1, 2]
    assert all(math.isfinite(c["loss"]) and 0.0 <= c["accuracy"] <= 1.0 for c in child)
    steps = [e.payload for e in events if e.type == "controller_step"]
    assert [s["step"] for s in steps] == list(range(1, 9))
    assert all(0.0 <= s["reward"] <= 1.0 for s in steps)
    # derive: the kept architecture is scored on the whole validation split (10 images)
    derived = [e.payload for e in events if e.type == "best" and e.payload.get("derived")]
    assert len(derived) == 1 and derived[0]["reward"] == result.best_reward
    assert round(result.best_reward * 10) == pytest.approx(result.best_reward * 10)
    space = create_space(space_name, **TINY_OPTIONS[space_name])
    space.arch_from_json(json.loads((tmp_path / "result.json").read_text())["best"]["architecture"])


def test_reward_is_minibatch_accuracy_and_full_is_the_whole_split(data) -> None:
    space, ev = _evaluator(data)
    arch = space.sample_random(torch.Generator().manual_seed(1))
    assert len(ev.valid_batches) == math.ceil(len(data.valid.labels) / 8)
    rewards = [ev.reward(arch) for _ in range(len(ev.valid_batches))]
    sizes = [y.numel() for _, y in ev.valid_batches]
    assert all(0.0 <= r <= 1.0 for r in rewards) and ev.valid_cursor == len(sizes)
    full = ev.reward(arch, full=True)
    assert full == pytest.approx(sum(r * n for r, n in zip(rewards, sizes, strict=True)) / sum(sizes))
    assert ev.valid_cursor == len(sizes)  # full=True does not move the minibatch cursor


def test_training_touches_only_the_sampled_path_and_learns(data) -> None:
    torch.set_num_threads(1)
    space, ev = _evaluator(data)
    arch = space.from_decisions([space.options.ops.index("nor_conv_3x3")] * 6)
    before = {k: v.clone() for k, v in ev.net.state_dict().items()}
    losses = [ev.train_epoch(lambda: arch).loss for _ in range(6)]
    after = ev.net.state_dict()
    changed = {k for k in before if before[k].is_floating_point() and not torch.equal(before[k], after[k])}
    assert any("nor_conv_3x3" in k for k in changed)
    assert not any("nor_conv_1x1" in k for k in changed)  # unused op: no gradient, no weight decay
    assert losses[-1] < losses[0]
    assert ev.steps == 6 * ev.steps_per_epoch()


def test_learning_rate_is_cosine_over_the_budget_fraction(data) -> None:
    fraction = {"f": 0.0}
    _, ev = _evaluator(data, budget_fraction=lambda: fraction["f"])
    lrs = []
    for f in (0.0, 0.5, 1.0):
        fraction["f"] = f
        lrs.append(ev.current_lr())
    assert lrs == pytest.approx([0.05, (0.05 + 0.0005) / 2, 0.0005])


def test_state_dict_round_trip_continues_identically(data, tmp_path: Path) -> None:
    torch.set_num_threads(1)
    space, a = _evaluator(data)
    g = torch.Generator().manual_seed(3)
    archs = [space.sample_random(g) for _ in range(40)]
    it = iter(archs)
    a.train_epoch(lambda: next(it))
    a.reward(archs[0])
    save_checkpoint(tmp_path / "c.pt", {"evaluator": a.state_dict()})
    _, b = _evaluator(data)
    b.load_state_dict(load_checkpoint(tmp_path / "c.pt")["evaluator"])  # weights_only=True holds it
    for ev in (a, b):
        rest = iter(archs[20:])
        ev.train_epoch(lambda rest=rest: next(rest))
    pairs = zip(a.net.state_dict().values(), b.net.state_dict().values(), strict=True)
    assert all(torch.equal(x, y) for x, y in pairs)
    assert a.reward(archs[1]) == b.reward(archs[1]) and a.valid_cursor == b.valid_cursor == 2


def test_empty_validation_split_is_a_clear_error(data) -> None:
    import dataclasses

    empty = dataclasses.replace(data, valid=dataclasses.replace(data.valid, images=data.valid.images[:0],
                                                               labels=data.valid.labels[:0]))
    space = create_space("nb201", **TINY_OPTIONS["nb201"])
    ctx = EvaluatorContext(space=space, device=torch.device("cpu"), seed=0, data=empty)
    with pytest.raises(ValueError, match="validation split"):
        create_evaluator("shared", context=ctx)
