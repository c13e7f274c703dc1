"""REINFORCE pinned: the same seed gives the same samples, updates and weights as before the policy
was split from its update rule (values recorded with the single-class controller of commit 01f3cb2,
re-recorded in issue 8 when the walk began feeding a group's first choices to the LSTM before the
group's first anchor, the macro group's layer-0 op: the default's samples stayed, its stats moved;
the variant's large lr moved its samples from the second update on).

Each trajectory is 5 updates of 3 samples on a decision list with every kind (input, op, skip, an
empty skip) and a reward that depends on every value; ``variant`` switches temperature and grad clip
off, uses two LSTM layers, an entropy bonus that matters and a large lr, so the policy moves.
"""

from __future__ import annotations

from typing import Any

import pytest

from searchcore.controllers import create_controller
from searchcore.spaces import Decision

OPTIONS: dict[str, dict[str, Any]] = {
    "default": {"seed": 7},
    "variant": {"seed": 3, "lstm_layers": 2, "temperature": 0, "grad_clip": 0.0, "lstm_size": 16,
                "entropy_weight": 0.1, "reward_scale": 2.0, "lr": 0.2},
}

NET_KEYS = [
    "cells.0.bias_hh",
    "cells.0.bias_ih",
    "cells.0.weight_hh",
    "cells.0.weight_ih",
    "embeds.0.weight",
    "embeds.1.weight",
    "heads.0.bias",
    "heads.0.weight",
    "heads.1.bias",
    "heads.1.weight",
    "start",
    "v.weight",
    "w_curr.weight",
    "w_prev.weight",
]
STATS = ("reward", "baseline", "entropy", "loss", "log_prob")  # each step's stats tuple, in this order

EXPECTED: dict[str, dict[str, Any]] = {
    "default": {
        "greedy": [0, 1, 0, 1, 1, [], 1, [0], 1, [0, 0]],
        "net_sum": -8.153971264,
        "net_abs": 2128.975023,
        "steps": [
            ([[1, 0, 1, 1, 1, [], 0, [1], 1, [1, 0]],
              [1, 2, 0, 1, 0, [], 1, [1], 0, [1, 1]],
              [1, 1, 2, 1, 0, [], 1, [0], 0, [0, 1]]],
             (0.8916666667, 0.8924815059, 8.147834778, 0.04903223366, -8.145337105)),
            ([[1, 2, 2, 2, 1, [], 0, [0], 0, [0, 0]],
              [1, 2, 2, 0, 0, [], 0, [1], 1, [0, 1]],
              [1, 1, 2, 0, 0, [], 0, [1], 1, [0, 0]]],
             (0.7, 0.8905648386, 8.147733688, -1.499020219, -8.14755249)),
            ([[0, 2, 2, 1, 0, [], 0, [1], 1, [1, 1]],
              [1, 2, 1, 1, 1, [], 1, [0], 0, [1, 0]],
              [1, 0, 0, 0, 1, [], 0, [0], 0, [0, 1]]],
             (0.8, 0.8896673383, 8.147441864, -0.6753151417, -8.15599823)),
            ([[1, 2, 0, 1, 0, [], 1, [0], 1, [1, 1]],
              [0, 0, 2, 0, 0, [], 0, [0], 0, [0, 1]],
              [1, 2, 0, 0, 1, [], 1, [1], 0, [1, 1]]],
             (0.8333333333, 0.8891121448, 8.147185326, -0.4067617953, -8.172118187)),
            ([[1, 2, 0, 1, 0, [], 1, [0], 1, [1, 0]],
              [0, 2, 0, 0, 0, [], 0, [0], 0, [1, 1]],
              [1, 0, 0, 2, 0, [], 1, [0], 0, [0, 1]]],
             (0.6666666667, 0.886895837, 8.146710396, -1.753934264, -8.148415565)),
        ],
    },
    "variant": {
        "greedy": [1, 2, 1, 2, 1, [], 1, [0], 1, [0, 0]],
        "net_sum": 25.63471117,
        "net_abs": 1938.035315,
        "steps": [
            ([[0, 0, 0, 1, 0, [], 1, [1], 1, [1, 1]],
              [1, 1, 1, 1, 1, [], 0, [0], 1, [1, 0]],
              [1, 1, 1, 2, 0, [], 1, [1], 1, [1, 0]]],
             (1, 1.407335162, 8.146700859, 0.05261379108, -8.147326469)),
            ([[0, 0, 0, 2, 0, [], 0, [0], 0, [0, 0]],
              [1, 2, 0, 0, 0, [], 1, [0], 1, [0, 0]],
              [1, 2, 2, 0, 1, [], 1, [0], 1, [1, 1]]],
             (0.6333333333, 1.403469033, 7.747778416, -5.094278812, -7.279965878)),
            ([[1, 1, 2, 1, 1, [], 1, [0], 0, [0, 0]],
              [1, 1, 0, 1, 0, [], 0, [0], 1, [1, 0]],
              [1, 1, 1, 1, 0, [], 1, [1], 1, [0, 1]]],
             (0.7416666667, 1.400601776, 7.501533031, -3.984053373, -7.462892532)),
            ([[0, 2, 1, 0, 1, [], 1, [0], 1, [0, 1]],
              [1, 2, 1, 2, 0, [], 0, [1], 0, [1, 0]],
              [0, 2, 2, 2, 1, [], 1, [1], 0, [1, 1]]],
             (1.025, 1.400639849, 7.588182926, 0.1668367088, -7.921236515)),
            ([[1, 2, 0, 0, 1, [], 1, [1], 1, [1, 1]],
              [0, 1, 2, 1, 1, [], 1, [0], 1, [1, 1]],
              [0, 0, 0, 0, 1, [], 0, [1], 1, [0, 1]]],
             (1.083333333, 1.401192271, 7.450975418, 1.152382135, -7.037606716)),
        ],
    },
}


def _reward(values: list[Any]) -> float:
    flat: list[int] = []
    for v in values:
        flat.extend(v if isinstance(v, tuple) else [v])
    return sum((i + 1) * f for i, f in enumerate(flat)) / 40.0


def _plain(values: list[Any]) -> list[Any]:
    return [list(v) if isinstance(v, tuple) else v for v in values]


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_reinforce_trajectory_is_unchanged(case: str, mixed_decisions: list[Decision]) -> None:
    options = dict(OPTIONS[case])
    seed = options.pop("seed")
    controller = create_controller("reinforce", decisions=mixed_decisions, initial_nodes={"cell": 2},
                                   seed=seed, **options)
    expected = EXPECTED[case]
    for step, (samples, stats) in enumerate(expected["steps"]):
        got = controller.sample(3)
        assert [_plain(v) for v in got] == samples, f"step {step}"
        got_stats = controller.update([_reward(v) for v in got]).to_dict()
        want = dict(zip(STATS, stats, strict=True))
        assert got_stats == pytest.approx(want, rel=1e-5, abs=1e-6), f"step {step}"
    assert _plain(controller.greedy()) == expected["greedy"]
    net = controller.state_dict()["net"]
    extra = ["cells.1.bias_hh", "cells.1.bias_ih", "cells.1.weight_hh", "cells.1.weight_ih"]
    assert sorted(net) == sorted(NET_KEYS + (extra if case == "variant" else []))
    assert float(sum(t.double().sum() for t in net.values())) == pytest.approx(expected["net_sum"], abs=1e-4)
    assert float(sum(t.double().abs().sum() for t in net.values())) == pytest.approx(expected["net_abs"],
                                                                                      rel=1e-6)
