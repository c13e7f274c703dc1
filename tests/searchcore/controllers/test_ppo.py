"""The ``ppo`` controller: its clipped objective on hand-computed cases, REINFORCE as its one-epoch
special case, exact resume, learning on a toy reward, both baselines, and a search through the loop."""

from __future__ import annotations

import dataclasses
import io
import math
from pathlib import Path
from typing import Any

import pytest
import torch

from searchcore.config import SearchConfig
from searchcore.controllers import controller_schema, create_controller
from searchcore.controllers.policy import Rollout
from searchcore.controllers.ppo import PpoController, clipped_surrogate
from searchcore.evaluators.benchmark import BenchmarkEvaluator
from searchcore.events import ListSink
from searchcore.schema import OptionsError
from searchcore.search import run_search
from searchcore.spaces import Decision, create_space

TABLE = Path(__file__).resolve().parents[2] / "fixtures" / "nb201_cifar10.csv"
CLIP = 0.2
# Four samples, one per branch: ratio 2 or 0.5 against advantage +0.5 or -0.5 (clip 0.2).
RATIOS = (2.0, 2.0, 0.5, 0.5)
ADVANTAGES = (0.5, -0.5, 0.5, -0.5)
# min(r A, clip(r) A): 2*.5=1 vs 1.2*.5=.6 -> .6 clipped; -1 vs -.6 -> -1 unclipped;
# .25 vs .4 -> .25 unclipped; -.25 vs -.4 -> -.4 clipped. Loss = -mean = 0.1375.
BY_HAND_LOSS = -(0.6 - 1.0 + 0.25 - 0.4) / 4
# d loss / d new_log_prob: 0 where clipped, -r A / 4 where not.
BY_HAND_GRAD = (0.0, 2.0 * 0.5 / 4, -0.5 * 0.5 / 4, 0.0)


def _ppo(decisions: list[Decision], seed: int = 0, initial: dict[str, int] | None = None,
         **options: Any) -> PpoController:
    controller = create_controller("ppo", decisions=decisions, initial_nodes=initial or {}, seed=seed,
                                   **options)
    assert isinstance(controller, PpoController)
    return controller


def test_clipped_surrogate_by_hand() -> None:
    old = torch.log(torch.tensor([0.25, 0.25, 0.5, 0.5]))
    new = (old + torch.log(torch.tensor(RATIOS))).requires_grad_()
    loss = clipped_surrogate(new, old, torch.tensor(ADVANTAGES), CLIP)
    assert math.isclose(float(loss.detach()), BY_HAND_LOSS, rel_tol=1e-6)
    loss.backward()
    assert torch.allclose(new.grad, torch.tensor(BY_HAND_GRAD), atol=1e-7)
    at_one = clipped_surrogate(old.clone(), old, torch.tensor(ADVANTAGES), CLIP)  # ratio 1: -mean(A)
    assert math.isclose(float(at_one), 0.0, abs_tol=1e-7)


def _uniform_coin(monkeypatch: pytest.MonkeyPatch, ratios: tuple[float, ...],
                  **options: Any) -> PpoController:
    """One two-way op decision under an exactly uniform policy (every parameter 0, no temperature or
    tanh): log pi = log 0.5 for every sample. The next ``sample(4)`` draws a, b, a, b with old
    log-probabilities log(0.5 / ratio), so the ratios are ``ratios``."""
    decisions = [Decision("coin", "op", ("a", "b"), "g", 0)]
    controller = _ppo(decisions, temperature=0, tanh_constant=None, entropy_weight=0.0, skip_weight=0.0,
                      grad_clip=0, **options)
    with torch.no_grad():
        for p in controller.policy.parameters():
            p.zero_()
    values = [[0], [1], [0], [1]]
    scored = controller.policy.evaluate(values)
    assert torch.allclose(scored.log_prob, torch.full((4,), math.log(0.5)))
    old = torch.log(0.5 / torch.tensor(ratios))
    rollout = dataclasses.replace(scored, log_prob=old)
    monkeypatch.setattr(controller.policy, "sample", lambda n, generator: rollout)
    assert controller.sample(4) == values
    return controller


def test_update_minimises_the_clipped_objective_by_hand(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rewards 1, 0, 1, 0: the first batch's EMA baseline is 0.5, so the advantages are ADVANTAGES."""
    controller = _uniform_coin(monkeypatch, RATIOS, ppo_epochs=1, clip=CLIP, lr=0.1)
    stats = controller.update([1.0, 0.0, 1.0, 0.0])
    assert stats.baseline == 0.5 and math.isclose(stats.loss, BY_HAND_LOSS, rel_tol=1e-6)
    # logits = the head's bias; d log pi(a) / d bias_k = [k == a] - 1/2, summed with BY_HAND_GRAD
    # over the samples a = 0, 1, 0, 1: only the two unclipped samples (1 and 2) contribute.
    g = BY_HAND_GRAD
    expected = torch.tensor([-0.5 * g[1] + 0.5 * g[2], 0.5 * g[1] - 0.5 * g[2]])
    assert torch.allclose(controller.policy.heads[0].bias.grad, expected, atol=1e-7)
    assert controller.steps == 1


def test_when_every_sample_is_clipped_the_policy_does_not_move(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ratio 2 with a positive and 0.5 with a negative advantage: all clipped, no gradient, in every
    epoch (the policy stays where it was, so the ratios stay out of range)."""
    controller = _uniform_coin(monkeypatch, (2.0, 0.5, 2.0, 0.5), ppo_epochs=3, clip=CLIP, lr=0.1)
    before = {k: v.clone() for k, v in controller.policy.state_dict().items()}
    stats = controller.update([1.0, 0.0, 1.0, 0.0])
    assert math.isclose(stats.loss, -(0.6 - 0.4 + 0.6 - 0.4) / 4, rel_tol=1e-6)
    assert controller.steps == 3
    assert all(torch.equal(before[k], v) for k, v in controller.policy.state_dict().items())


def test_one_epoch_with_the_ema_baseline_is_reinforce(mixed_decisions: list[Decision]) -> None:
    """At the sampling-time weights r = 1 and grad r = grad log pi: PPO's first epoch is REINFORCE."""
    options = {"seed": 3, "initial_nodes": {"cell": 2}, "lr": 0.1, "entropy_weight": 0.1}
    ppo = create_controller("ppo", decisions=mixed_decisions, ppo_epochs=1, **options)
    reinforce = create_controller("reinforce", decisions=mixed_decisions, **options)
    for _ in range(5):
        samples = ppo.sample(4)
        assert samples == reinforce.sample(4)
        rewards = [float(len(str(v))) for v in samples]
        assert ppo.update(rewards).baseline == reinforce.update(rewards).baseline
    for key, value in ppo.policy.state_dict().items():
        assert torch.allclose(value, reinforce.policy.state_dict()[key], atol=1e-6), key


def _round_trip(controller: PpoController) -> dict[str, Any]:
    buffer = io.BytesIO()
    torch.save(controller.state_dict(), buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


@pytest.mark.parametrize("baseline", ["ema", "learned"])
def test_state_round_trip_resumes_exactly(baseline: str) -> None:
    space = create_space("nb201")
    a = _ppo(space.decisions(), seed=5, initial=space.initial_nodes, baseline=baseline, lr=0.05)
    for step in range(3):
        a.sample(4)
        a.update([float(step), 1.0, 2.0, 0.5])
    state = _round_trip(a)
    assert {"baseline", "value_head", "value_optimizer"} <= set(state) and state["steps"] == 3 * 4
    b = _ppo(space.decisions(), seed=99, initial=space.initial_nodes, baseline=baseline, lr=0.05)
    b.load_state_dict(state)
    assert b.baseline == a.baseline and b.steps == a.steps
    for _ in range(3):
        sa, sb = a.sample(4), b.sample(4)
        assert sa == sb
        rewards = [float(sum(v)) for v in sa]
        assert a.update(rewards) == b.update(rewards)
    assert a.baseline == b.baseline
    for key, value in a.policy.state_dict().items():
        assert torch.equal(value, b.policy.state_dict()[key]), key
    assert torch.equal(a.value_head.value, b.value_head.value)


@pytest.mark.parametrize("baseline", ["ema", "learned"])
def test_ppo_raises_the_probability_of_the_rewarded_architecture(baseline: str) -> None:
    """Reward 1 for op c at both decisions, 0 otherwise (chance 1/9): a few updates raise its
    probability well above chance (no temperature or tanh bound, which would cap it at 0.30)."""
    decisions = [Decision(f"d{i}", "op", ("a", "b", "c"), "g", i) for i in range(2)]
    controller = _ppo(decisions, seed=2, baseline=baseline, lr=0.05, temperature=0,
                      tanh_constant=None)
    target = [[2, 2]]

    def probability() -> float:
        with torch.no_grad():
            return float(controller.policy.evaluate(target).log_prob.exp())

    start = probability()
    assert 0.08 < start < 0.14
    for _ in range(15):
        samples = controller.sample(8)
        controller.update([1.0 if v == [2, 2] else 0.0 for v in samples])
    assert probability() > 0.5


def test_learned_value_is_fitted_by_mse_after_the_advantage() -> None:
    """First batch: V = its mean. Next batch: the advantage uses that V; then ``ppo_epochs`` Adam
    steps of at most about ``value_lr`` each move V towards the new mean."""
    decisions = [Decision("d0", "op", ("a", "b"), "g", 0)]
    controller = _ppo(decisions, baseline="learned", value_lr=0.01, ppo_epochs=4, entropy_weight=0.0)
    controller.sample(2)
    assert controller.update([0.2, 0.4]).baseline == pytest.approx(0.3)
    assert abs(controller.baseline - 0.3) <= 4 * 0.01  # Adam: each step moves V by about value_lr at most
    before = controller.baseline
    controller.sample(2)
    assert controller.update([0.9, 0.9]).baseline == before  # the V before this batch
    assert before + 0.01 < controller.baseline <= before + 4 * 0.01 + 1e-6  # steps of up to value_lr
    ema = _ppo(decisions, baseline="ema", baseline_decay=0.5, entropy_weight=0.0)
    ema.sample(2)
    ema.update([0.2, 0.4])
    ema.sample(2)
    assert ema.update([0.9, 0.9]).baseline == pytest.approx(0.6)  # EMA: this batch is in it


def test_ppo_options_are_checked() -> None:
    schema = controller_schema("ppo")
    defaults = schema.defaults()
    assert (defaults["clip"], defaults["ppo_epochs"], defaults["baseline"]) == (0.2, 4, "ema")
    assert set(controller_schema("reinforce").names()) <= set(schema.names())
    for values, field in (({"baseline": "critic"}, "baseline"), ({"clip": 0}, "clip"),
                          ({"ppo_epochs": 0}, "ppo_epochs"), ({"value_lr": -1.0}, "value_lr")):
        with pytest.raises(OptionsError) as caught:
            create_controller("ppo", decisions=[Decision("d0", "op", ("a", "b"), "g", 0)], **values)
        assert list(caught.value.errors) == [field]


def test_ppo_searches_the_nb201_table_through_the_loop(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    sink = ListSink()
    config = SearchConfig(space="nb201", data=str(TABLE), evaluator="benchmark", controller="ppo",
                          max_archs=60, seed=1, device="cpu")
    run_search(config, tmp_path / "run", sink=sink)
    steps = [e.payload for e in sink.events if e.type == "controller_step"]
    rewards = [e.payload["reward"] for e in sink.events if e.type == "arch_sampled"]
    assert len(steps) >= 60 // BenchmarkEvaluator.suggested_samples_per_update
    assert all(math.isfinite(s["loss"]) for s in steps)
    assert 80.0 < steps[-1]["baseline"] < 95.0  # in percent: the suggested reward_scale is undone
    assert max(rewards) > 93.0
    state = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert state["controller"]["name"] == "ppo"
    assert state["controller"]["options"]["reward_scale"] == 0.01


def test_rollout_is_what_the_rule_scores() -> None:
    """``update`` scores the SAME architectures again: evaluate() of the sampled values gives the
    sampling-time log-probabilities (so the first epoch's ratio is exactly 1)."""
    space = create_space("nb201")
    controller = _ppo(space.decisions(), seed=4, initial=space.initial_nodes)
    rollout = controller.policy.sample(6, controller.generator)
    assert isinstance(rollout, Rollout)
    again = controller.policy.evaluate(rollout.values)
    assert torch.equal(again.log_prob.detach(), rollout.log_prob.detach())
