"""Controllers: valid samples for every space, learning on synthetic bandits, exact resume."""

from __future__ import annotations

import io
import math

import pytest
import torch

from searchcore.compat import trains_only
from searchcore.controllers import ControllerStats, create_controller, list_controllers
from searchcore.spaces import Decision, create_space, list_spaces

SEARCHABLE = [name for name in list_spaces() if not trains_only(name)]  # a fixed network has no decisions

OP3 = ("a", "b", "c")


def _controller(name: str, decisions: list[Decision], seed: int = 0, initial: dict[str, int] | None = None,
                **options: object):
    return create_controller(name, decisions=decisions, initial_nodes=initial or {}, seed=seed, **options)


@pytest.mark.parametrize("space_name", SEARCHABLE)
@pytest.mark.parametrize("name", list_controllers())
def test_every_controller_samples_valid_archs_for_every_space(name: str, space_name: str) -> None:
    space = create_space(space_name)
    controller = _controller(name, space.decisions(), initial=space.initial_nodes)
    samples = controller.sample(4)
    assert len(samples) == 4
    for values in samples:
        space.validate_values(values)
        space.from_decisions(values)
    stats = controller.update([0.1, 0.5, 0.2, 0.9])
    assert isinstance(stats, ControllerStats)
    assert math.isclose(stats.reward, 0.425) and all(math.isfinite(v) for v in stats.to_dict().values())
    space.validate_values(controller.greedy())


def test_random_controller_stats() -> None:
    space = create_space("nb201")
    controller = _controller("random", space.decisions(), seed=3)
    controller.sample(2)
    stats = controller.update([90.0, 92.0])
    assert stats.baseline == 91.0 and stats.loss == 0.0
    assert math.isclose(stats.entropy, 6 * math.log(5))
    a = _controller("random", space.decisions(), seed=3).sample(5)
    assert a == _controller("random", space.decisions(), seed=3).sample(5)
    assert a != _controller("random", space.decisions(), seed=4).sample(5)


def test_reinforce_update_changes_the_policy() -> None:
    decisions = [Decision(key=f"d{i}", kind="op", choices=OP3, group="g", node=i) for i in range(2)]
    controller = _controller("reinforce", decisions, seed=1)
    before = {k: v.clone() for k, v in controller.policy.state_dict().items()}
    controller.sample(4)
    stats = controller.update([1.0, 0.0, 0.5, 0.2])
    assert controller.steps == 1 and stats.loss != 0.0
    assert any(not torch.equal(before[k], v) for k, v in controller.policy.state_dict().items())
    with pytest.raises(RuntimeError):
        controller.update([1.0])  # no pending sample
    controller.sample(2)
    with pytest.raises(ValueError):
        controller.update([1.0])


def test_reinforce_learns_the_rewarded_op_on_nb201() -> None:
    space = create_space("nb201")
    target = space.options.ops.index("nor_conv_3x3")
    controller = _controller("reinforce", space.decisions(), seed=0, initial=space.initial_nodes)
    first = controller.sample(64)
    rate_before = sum(v == target for values in first for v in values) / (64 * 6)
    for _ in range(60):
        samples = controller.sample(8)
        controller.update([sum(v == target for v in values) / 6 for values in samples])
    rate_after = sum(v == target for values in controller.sample(64) for v in values) / (64 * 6)
    # ENAS bounds op logits by tanh(1.1 / 2.5): no op can exceed p = 0.375 with the defaults.
    assert rate_before < 0.25 and 0.3 < rate_after <= 0.375
    assert controller.greedy() == [target] * 6


def _attention_bandit(kind: str, reward, steps: int = 60, **options: object) -> tuple[float, float]:
    """Mean reward before and after ``steps`` updates on cells whose nodes pick inputs or skips."""
    decisions = []
    for node in range(2, 5):
        decisions.append(Decision(f"n{node}/x", kind, tuple(str(k) for k in range(node)), "cell", node))
        decisions.append(Decision(f"n{node}/op", "op", OP3, "cell", node))
    controller = _controller("reinforce", decisions, seed=0, initial={"cell": 2}, **options)
    before = sum(reward(v) for v in controller.sample(128)) / 128
    for _ in range(steps):
        samples = controller.sample(8)
        controller.update([reward(v) for v in samples])
    policy = controller.policy
    assert policy.w_prev.weight.grad is not None and policy.v.weight.grad.abs().sum() > 0
    return before, sum(reward(v) for v in controller.sample(128)) / 128


def _skip_rate(values: list) -> float:
    flags = [f for i in range(0, 6, 2) for f in values[i]]
    return sum(flags) / len(flags)


def test_reinforce_attention_learns_the_rewarded_input() -> None:
    before, after = _attention_bandit("input", lambda v: sum(v[i] == 0 for i in range(0, 6, 2)) / 3)
    assert before < 0.45 and after > 0.7


def test_reinforce_attention_learns_rewarded_skips() -> None:
    before, after = _attention_bandit("skip", _skip_rate, skip_weight=0.0)
    assert 0.4 < before < 0.6 and after > 0.68


def test_skip_penalty_pulls_towards_the_target() -> None:
    """With the ENAS skip penalty, a reward for skips is held back near skip_target=0.4."""
    _, after = _attention_bandit("skip", _skip_rate)
    assert 0.3 < after < 0.5


def test_reinforce_state_round_trip_resumes_exactly() -> None:
    space = create_space("nb201")
    a = _controller("reinforce", space.decisions(), seed=5, initial=space.initial_nodes)
    for step in range(3):
        a.sample(4)
        a.update([float(step), 1.0, 2.0, 0.5])
    buffer = io.BytesIO()
    torch.save(a.state_dict(), buffer)
    buffer.seek(0)
    b = _controller("reinforce", space.decisions(), seed=99, initial=space.initial_nodes)
    b.load_state_dict(torch.load(buffer, weights_only=True))
    assert b.baseline == a.baseline and b.steps == 3
    for _ in range(3):
        sa, sb = a.sample(4), b.sample(4)
        assert sa == sb
        rewards = [float(sum(v)) for v in sa]
        assert a.update(rewards) == b.update(rewards)


def test_random_state_round_trip() -> None:
    decisions = create_space("nb201").decisions()
    a = _controller("random", decisions, seed=2)
    a.sample(3)
    b = _controller("random", decisions, seed=7)
    b.load_state_dict(a.state_dict())
    assert a.sample(5) == b.sample(5)


def test_reinforce_seed_and_options() -> None:
    decisions = create_space("nb201").decisions()
    torch.manual_seed(123)
    first = _controller("reinforce", decisions, seed=1).sample(6)
    torch.manual_seed(456)  # the global RNG plays no part
    assert first == _controller("reinforce", decisions, seed=1).sample(6)
    assert _controller("reinforce", decisions, seed=1).sample(6) != _controller("reinforce", decisions,
                                                                                seed=2).sample(6)
    controller = _controller("reinforce", decisions, temperature=0, lr=0.01)
    assert controller.options.temperature == 0 and controller.options.lr == 0.01
    with pytest.raises(ValueError, match="learning_rate: unknown option"):
        _controller("reinforce", decisions, learning_rate=0.1)
