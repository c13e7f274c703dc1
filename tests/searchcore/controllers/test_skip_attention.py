"""A ``skip`` decision's probabilities are NAS-RL's anchor attention, recomputed by hand from the
policy's own weights: P(j -> i) = sigmoid(v^T tanh(W_prev h_j + W_curr h_i)), where ``h_j`` is layer
j's anchor and ``h_i`` the LSTM output at layer i's skip step (see ``controllers/policy.py``)."""

from __future__ import annotations

import pytest
import torch

from searchcore.controllers.policy import LSTMPolicy, PolicyOptions
from searchcore.spaces import Decision, create_space

SIZE = 8


def _lstm(policy: LSTMPolicy, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]) -> tuple:
    h, c = policy.cells[0](x, state)
    return h, (h, c)


@pytest.mark.parametrize(("temperature", "tanh_constant"), [(None, None), (5.0, 1.1)])
def test_skip_probabilities_are_the_anchor_attention(temperature: float | None,
                                                    tanh_constant: float | None) -> None:
    # layer 0 has one op; layer 1 a skip over layer 0; layer 2 a skip over layers 0 and 1
    decisions = [Decision("l0/op", "op", ("a", "b"), "layers", 0),
                 Decision("l1/skip", "skip", ("layer0",), "layers", 1),
                 Decision("l2/skip", "skip", ("layer0", "layer1"), "layers", 2)]
    policy = LSTMPolicy(decisions, PolicyOptions(lstm_size=SIZE, temperature=temperature,
                                                 tanh_constant=tanh_constant), seed=3)
    rollout = policy.evaluate([[1, (1,), (0, 1)]])

    def prob(anchors: list[torch.Tensor], h: torch.Tensor) -> torch.Tensor:
        logit = torch.cat([policy.v(torch.tanh(policy.w_prev(a) + policy.w_curr(h))) for a in anchors], 1)
        if temperature:
            logit = logit / temperature
        if tanh_constant:
            logit = tanh_constant * torch.tanh(logit)
        return torch.sigmoid(logit)

    with torch.no_grad():
        start, state = policy.start, (torch.zeros(1, SIZE), torch.zeros(1, SIZE))
        _, state = _lstm(policy, start, state)  # layer 0's op step
        anchor0, state = _lstm(policy, policy.embeds[0](torch.tensor([1])), state)  # its anchor
        h1, state = _lstm(policy, start, state)  # layer 1's skip step
        anchor1, state = _lstm(policy, anchor0 / 2, state)  # its anchor, fed the picks: anchor0 / (1 + 1)
        h2, _ = _lstm(policy, start, state)  # layer 2's skip step
        torch.testing.assert_close(rollout.skip_probs[0], prob([anchor0], h1))
        torch.testing.assert_close(rollout.skip_probs[1], prob([anchor0, anchor1], h2))


def test_nas_rl_cnn_skip_decisions_attend_over_every_earlier_layer() -> None:
    space = create_space("nas-rl-cnn", num_layers=4)
    policy = LSTMPolicy(space.decisions(), PolicyOptions(lstm_size=SIZE), seed=0)
    rollout = policy.sample(5, torch.Generator().manual_seed(0))
    assert [p.shape for p in rollout.skip_probs] == [(5, 1), (5, 2), (5, 3)]
    assert all(((p > 0) & (p < 1)).all() for p in rollout.skip_probs)
