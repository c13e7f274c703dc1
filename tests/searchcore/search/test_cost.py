"""Cost-aware reward (issue 7 item 6): MnasNet's accuracy × (latency / target)^w, soft and hard."""

from __future__ import annotations

import json
from typing import Any

import pytest
import torch

from searchcore.config import SearchConfig
from searchcore.search import cost as cost_module
from searchcore.search.cost import LatencyReward, latency_reward, shape_rewards, shaped_reward
from searchcore.spaces import TaskSpec, create_space

TASK = TaskSpec.image(3, 8, 10)


@pytest.mark.parametrize(("accuracy", "latency", "target", "weight", "expected"), [
    (0.8, 10.0, 10.0, -0.07, 0.8),  # at the target: the accuracy
    (0.8, 20.0, 10.0, -0.07, 0.8 * 2 ** -0.07),  # twice as slow: about 4.7 % less
    (0.8, 5.0, 10.0, -0.07, 0.8 * 0.5 ** -0.07),  # twice as fast: a little more
    (0.5, 40.0, 10.0, -0.5, 0.5 * 4 ** -0.5),  # a stronger weight
    (0.5, 40.0, 10.0, 0.0, 0.5),  # weight 0: latency does not count
])
def test_soft_reward_is_accuracy_times_the_latency_ratio_to_the_weight(accuracy: float, latency: float,
                                                                     target: float, weight: float,
                                                                     expected: float) -> None:
    assert shaped_reward(accuracy, latency, target, weight, "soft") == pytest.approx(expected)


def test_hard_reward_keeps_accuracy_within_the_target_and_divides_by_the_ratio_beyond() -> None:
    assert shaped_reward(0.9, 3.0, 10.0, -0.07, "hard") == pytest.approx(0.9)
    assert shaped_reward(0.9, 10.0, 10.0, -0.07, "hard") == pytest.approx(0.9)
    assert shaped_reward(0.9, 20.0, 10.0, -0.07, "hard") == pytest.approx(0.45)
    assert shaped_reward(0.9, 30.0, 10.0, -0.5, "hard") == pytest.approx(0.3)  # the weight is the soft w


def test_a_faster_architecture_wins_only_what_its_latency_is_worth() -> None:
    slow, fast = shaped_reward(0.80, 20.0, 10.0), shaped_reward(0.78, 5.0, 10.0)
    assert fast > slow
    assert shaped_reward(0.60, 5.0, 10.0) < shaped_reward(0.80, 20.0, 10.0)


def test_bad_mode_and_target_are_refused() -> None:
    with pytest.raises(ValueError, match="latency_mode"):
        shaped_reward(0.5, 1.0, 1.0, -0.07, "medium")
    with pytest.raises(ValueError, match="positive"):
        shaped_reward(0.5, 1.0, 0.0)
    with pytest.raises(ValueError, match="latency_target_ms"):
        SearchConfig(space="nb201", data="x", max_epochs=1, latency_target_ms=0.0)
    with pytest.raises(ValueError, match="latency_mode"):
        SearchConfig(space="nb201", data="x", max_epochs=1, latency_target_ms=1.0, latency_mode="x")
    space = create_space("nb201", channels=4, cells_per_stage=1)
    with pytest.raises(ValueError, match="latency_mode"):
        LatencyReward(space, TASK, "cpu", target_ms=1.0, mode="medium")


class CountingReward(LatencyReward):
    """Fixed latency per architecture (its position in the space's op list), calls recorded."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.measured: list[str] = []

    def measure(self, arch: Any) -> float:
        self.measured.append(json.dumps(self.space.arch_to_json(arch), sort_keys=True))
        return 1.0 + len(self.measured)


def _archs(space: Any, n: int, seed: int = 0) -> list[Any]:
    """``n`` different random architectures."""
    generator, out = torch.Generator().manual_seed(seed), {}
    while len(out) < n:
        arch = space.sample_random(generator)
        out.setdefault(json.dumps(space.arch_to_json(arch), sort_keys=True), arch)
    return list(out.values())


def test_each_distinct_architecture_is_measured_once_and_the_cache_is_bounded() -> None:
    space = create_space("nb201", channels=4, cells_per_stage=1)
    a, b, c = _archs(space, 3)
    cost = CountingReward(space, TASK, "cpu", target_ms=2.0, max_cached=2)
    first = cost.shape(0.5, a)
    assert cost.shape(0.7, a) == (pytest.approx(shaped_reward(0.7, first[1], 2.0)), first[1])
    assert len(cost.measured) == 1
    cost.shape(0.5, b)
    cost.latency(a)  # a is now the most recently used: c pushes b out
    cost.shape(0.5, c)
    assert len(cost.measured) == 3
    cost.latency(a)
    assert len(cost.measured) == 3
    cost.latency(b)
    assert len(cost.measured) == 4 and cost.measured[3] == cost.measured[1]
    assert cost.fields(space.arch_to_json(a)) == {"accuracy": 0.7, "latency_ms": 2.0}  # its latest
    assert cost.fields(space.arch_to_json(c)) == {}  # pushed out by b


def test_shape_rewards_gives_event_fields_per_architecture_and_nothing_when_off() -> None:
    space = create_space("nb201", channels=4, cells_per_stage=1)
    archs = _archs(space, 2, seed=3)
    assert shape_rewards(None, archs, [0.25, 1]) == ([0.25, 1.0], [{}, {}])
    cost = CountingReward(space, TASK, "cpu", target_ms=2.0, weight=-0.5)
    rewards, fields = shape_rewards(cost, [archs[0], archs[0]], [0.2, 0.4])  # same arch, two scores
    assert [f["accuracy"] for f in fields] == [0.2, 0.4] and fields[0]["latency_ms"] == 2.0
    assert rewards == [pytest.approx(0.2), pytest.approx(0.4)]  # at the target exactly
    assert cost.shape_batch(archs, [0.4, 0.4])[1] == pytest.approx(0.4 * 1.5 ** -0.5)


def test_the_real_measurement_times_the_child_without_moving_the_search_rng(monkeypatch) -> None:
    space = create_space("nb201", channels=4, cells_per_stage=1)
    built: list[Any] = []
    real_build = type(space).build_child

    def build_child(self: Any, arch: Any, task: TaskSpec, **kw: Any) -> Any:
        built.append(task)
        return real_build(self, arch, task, **kw)

    monkeypatch.setattr(type(space), "build_child", build_child)
    cost = LatencyReward(space, TASK, "cpu", target_ms=1.0)
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    latency = cost.latency(_archs(space, 1)[0])
    assert torch.equal(torch.rand(3), expected)
    assert built == [TASK] and 0.0 < latency < 10_000.0


def test_latency_reward_follows_the_config(monkeypatch) -> None:
    config = SearchConfig(space="nb201", data="x", max_epochs=1, space_options={"channels": 4})
    assert latency_reward(config, None, "cpu") is None
    on = SearchConfig(space="nb201", data="x", max_epochs=1, space_options={"channels": 4},
                      latency_target_ms=3.0, latency_weight=-0.2, latency_mode="hard")
    cost = latency_reward(on, "table.csv", "cpu")  # no dataset: CIFAR-10's input
    assert (cost.target_ms, cost.weight, cost.mode, cost.task) == (3.0, -0.2, "hard", TaskSpec())
    assert cost.space.options.channels == 4

    class Data:
        def task(self) -> TaskSpec:
            return TASK

    assert latency_reward(on, Data(), "cpu").task == TASK
    assert cost_module.MAX_CACHED >= 1000
