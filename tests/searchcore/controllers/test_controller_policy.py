"""The LSTM policy on its own: scoring given values (teacher forcing) agrees with sampling, greedy is
the argmax of each decision, and stored samples can be re-scored after an update (what PPO needs)."""

from __future__ import annotations

import itertools

import pytest
import torch

from searchcore.compat import trains_only
from searchcore.controllers import create_controller
from searchcore.controllers.policy import LSTMPolicy, PolicyOptions, Rollout
from searchcore.spaces import Decision, create_space, list_spaces

SEARCHABLE = [name for name in list_spaces() if not trains_only(name)]  # a fixed network has no decisions


def _policy(decisions: list[Decision], seed: int = 0, **options: object) -> LSTMPolicy:
    return LSTMPolicy(decisions, PolicyOptions(**options), seed=seed)


def _generator(seed: int) -> torch.Generator:
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


def _assert_same_scores(a: Rollout, b: Rollout) -> None:
    torch.testing.assert_close(a.log_prob, b.log_prob)
    torch.testing.assert_close(a.entropy, b.entropy)
    torch.testing.assert_close(a.skip_penalty(0.4), b.skip_penalty(0.4))
    for x, y in zip(a.decision_log_probs, b.decision_log_probs, strict=True):
        torch.testing.assert_close(x, y)


@pytest.mark.parametrize("options", [{}, {"temperature": None, "tanh_constant": None, "lstm_layers": 2}])
def test_evaluate_gives_the_scores_recorded_when_sampled(mixed_decisions: list[Decision],
                                                         options: dict[str, object]) -> None:
    policy = _policy(mixed_decisions, seed=4, **options)
    sampled = policy.sample(16, _generator(1))
    scored = policy.evaluate(sampled.values)
    assert scored.values == sampled.values
    _assert_same_scores(scored, sampled)
    assert len(sampled.skip_probs) == 2  # the first skip decision has no earlier layer
    torch.testing.assert_close(torch.stack(sampled.decision_log_probs).sum(0), sampled.log_prob)
    # A different batch (reversed, one alone) scores each architecture the same.
    reverse = policy.evaluate(sampled.values[::-1])
    torch.testing.assert_close(reverse.log_prob.flip(0), sampled.log_prob)
    single = policy.evaluate(sampled.values[3:4])
    torch.testing.assert_close(single.log_prob, sampled.log_prob[3:4])
    torch.testing.assert_close(single.entropy, sampled.entropy[3:4])


@pytest.mark.parametrize("space_name", SEARCHABLE)
def test_evaluate_matches_sampling_on_every_space(space_name: str) -> None:
    space = create_space(space_name)
    policy = LSTMPolicy(space.decisions(), PolicyOptions(lstm_size=16), seed=1)
    sampled = policy.sample(4, _generator(2))
    _assert_same_scores(policy.evaluate(sampled.values), sampled)


def test_evaluate_has_the_gradient_of_the_sampled_log_prob(mixed_decisions: list[Decision]) -> None:
    policy = _policy(mixed_decisions, seed=2)
    sampled = policy.sample(6, _generator(0))
    sampled.log_prob.sum().backward()
    expected = [p.grad.clone() for p in policy.parameters()]
    policy.zero_grad()
    policy.evaluate(sampled.values).log_prob.sum().backward()
    for want, p in zip(expected, policy.parameters(), strict=True):
        torch.testing.assert_close(p.grad, want)


def test_evaluate_scores_stored_samples_under_the_updated_policy(mixed_decisions: list[Decision]) -> None:
    controller = create_controller("reinforce", decisions=mixed_decisions, initial_nodes={"cell": 2},
                                   seed=0, lr=0.05)
    samples = controller.sample(8)
    before = controller.policy.evaluate(samples).log_prob.detach()
    controller.update([float(v[1] == 0) for v in samples])
    after = controller.policy.evaluate(samples).log_prob.detach()
    assert not torch.allclose(before, after)
    rewarded = torch.tensor([v[1] == 0 for v in samples])
    assert rewarded.any() and not rewarded.all()
    # The policy step raised the rewarded samples' probability relative to the others.
    gain = after - before
    assert gain[rewarded].mean() > gain[~rewarded].mean()


def _alternatives(d: Decision) -> list[object]:
    if d.kind == "skip":
        return [tuple(flags) for flags in itertools.product((0, 1), repeat=len(d.choices))]
    return list(range(len(d.choices)))


@pytest.mark.parametrize("seed", [0, 3])
def test_greedy_takes_the_most_likely_value_at_each_decision(mixed_decisions: list[Decision],
                                                             seed: int) -> None:
    policy = _policy(mixed_decisions, seed=seed, temperature=None)  # sharper than the ENAS defaults
    greedy = policy.greedy()
    for j, d in enumerate(mixed_decisions):
        rows = [greedy[:j] + [value] + greedy[j + 1:] for value in _alternatives(d)]
        terms = policy.evaluate(rows).decision_log_probs[j].detach()  # depends on the prefix and value j
        best = rows.index(greedy)
        assert terms[best] == terms.max(), (d.key, terms.tolist())
        if len(rows) > 1:
            assert (terms < terms[best]).any()  # the decision is not a tie


def test_sampling_uses_only_the_given_generator(mixed_decisions: list[Decision]) -> None:
    policy = _policy(mixed_decisions, seed=5)
    torch.manual_seed(0)
    a = policy.sample(5, _generator(9)).values
    torch.manual_seed(1)
    assert policy.sample(5, _generator(9)).values == a
    assert policy.sample(5, _generator(10)).values != a
    state = torch.random.get_rng_state()
    _policy(mixed_decisions, seed=6)
    assert torch.equal(torch.random.get_rng_state(), state)  # building does not move the global RNG


@pytest.mark.parametrize("bad", [
    lambda v: v[:-1],  # too few values
    lambda v: [3] + v[1:],  # input index past the candidates of node 2
    lambda v: v[:3] + [5] + v[4:],  # op index past the op list
    lambda v: v[:-1] + [(1,)],  # skip flags of the wrong length
    lambda v: v[:-1] + [(0, 2)],  # a flag that is not 0/1
])
def test_evaluate_refuses_values_the_decisions_do_not_allow(mixed_decisions: list[Decision], bad) -> None:
    policy = _policy(mixed_decisions)
    values = policy.greedy()
    policy.evaluate([values])
    with pytest.raises(ValueError):
        policy.evaluate([bad(list(values))])
    with pytest.raises(ValueError):
        policy.evaluate([])
