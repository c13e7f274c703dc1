"""Degenerate architectures: each image space names them, derive avoids them, the loop reports them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from searchcore.config import SearchConfig
from searchcore.events import read_events
from searchcore.search.derive import EXTRA_ROUNDS, derive_best
from searchcore.search.loop import run_search
from searchcore.search.setup import SearchParts
from searchcore.search.state import LoopState, check_same_config
from searchcore.search.store import CheckpointError
from searchcore.spaces import create_space, list_spaces, space_class
from searchcore.spaces._degenerate import factory_has_parameters
from searchcore.spaces._micro_space import micro_space_class
from searchcore.spaces.base import IMAGE
from searchcore.spaces.ops import OPS
from searchcore.validation import validate_search

TABLE = Path(__file__).resolve().parents[1] / "fixtures" / "nb201_cifar10.csv"
MICRO_REDUCE = [[0, "max3", 1, "avg3"], [0, "identity", 2, "max3"]]  # DARTS-like: pooling only, yet sound


def _micro(normal: list[list[Any]]) -> dict[str, Any]:
    return {"space": "enas-micro", "normal": normal, "reduce": MICRO_REDUCE}


NASNET_REDUCE = [[0, "max7", 1, "avg3", "add"], [0, "identity", 2, "max5", "concat"]]


def _nasnet(normal: list[list[Any]]) -> dict[str, Any]:
    return {"space": "nasnet", "normal": normal, "reduce": NASNET_REDUCE}


def _macro(*ops: str) -> dict[str, Any]:
    return {"space": "enas-macro", "layers": [{"op": op, "skips": [1] * i} for i, op in enumerate(ops)]}


def _nas_rl(*kernels: tuple[int, int], stride: int = 1) -> dict[str, Any]:  # a chain: each reads the last
    layers = [{"height": h, "width": w, "filters": 24, "stride": stride,
               "inputs": [0] * (i - 1) + [1] * (i > 0)} for i, (h, w) in enumerate(kernels)]
    return {"space": "nas-rl-cnn", "layers": layers}


def _nb201(*edges: str) -> dict[str, Any]:  # edge order 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2
    return {"space": "nb201", "edges": list(edges)}


# the collapse of issue 7: every normal-cell node reads input 0 (c_{k-2}) through identity
IDENTITY_ONLY = _micro([[0, "identity", 0, "identity"], [0, "identity", 2, "identity"]])

# (architecture, a phrase every reason list of it must contain) per space; then sound architectures
DEGENERATE: dict[str, list[tuple[dict[str, Any], str]]] = {
    "enas-micro": [
        (IDENTITY_ONLY, "no operation with weights"),
        (IDENTITY_ONLY, "c_{k-1}"),
        (_micro([[1, "max3", 0, "avg3"], [2, "identity", 1, "max3"]]), "only avg3, identity and max3"),
        (_micro([[0, "sep3", 0, "sep5"], [2, "sep3", 0, "identity"]]), "c_{k-1}"),
    ],
    "nasnet": [
        (_nasnet([[0, "identity", 0, "identity", "add"], [2, "identity", 0, "identity", "concat"]]),
         "no operation with weights"),
        # a concat's 1x1 conv only brings 2C back to C, as the cell output's conv mixes the loose ends
        (_nasnet([[1, "max5", 0, "max7", "concat"], [2, "identity", 1, "avg3", "add"]]),
         "only avg3, identity, max5 and max7"),
        (_nasnet([[0, "sep7", 0, "conv1x7_7x1", "add"], [2, "dil_conv3", 0, "max3", "concat"]]), "c_{k-1}"),
    ],
    "enas-macro": [
        (_macro("max3", "avg3", "max3"), "no operation with weights"),
        (_macro("avg3", "avg3", "avg3", "max3", "max3", "max3"), "only avg3 and max3"),
    ],
    "resnet20": [],  # one fixed, hand-designed network: nothing can collapse
    "nas-rl-cnn": [
        (_nas_rl((1, 1), (1, 1), (1, 1)), "1x1"),
        (_nas_rl((1, 1), (1, 1), stride=2), "no layer combines neighbouring pixels"),
    ],
    "nb201": [
        (_nb201(*["none"] * 6), "always zero"),
        (_nb201("nor_conv_3x3", "none", "none", "none", "none", "skip_connect"), "always zero"),
        (_nb201("skip_connect", "avg_pool_3x3", "skip_connect", "none", "avg_pool_3x3", "skip_connect"),
         "only through avg_pool_3x3 and skip_connect"),
        # the conv feeds node 1, which reaches the output only through a zero edge
        (_nb201("nor_conv_3x3", "none", "none", "skip_connect", "none", "none"), "only through skip_connect"),
        # node 1 is starved (a zero edge in), so its conv to the output computes from nothing
        (_nb201("none", "none", "nor_conv_3x3", "skip_connect", "nor_conv_1x1", "none"), "skip_connect"),
    ],
}
SOUND: dict[str, list[dict[str, Any]]] = {
    "enas-micro": [_micro([[0, "identity", 1, "sep3"], [2, "max3", 0, "identity"]]),
                   _micro([[1, "identity", 1, "identity"], [2, "sep5", 0, "max3"]])],
    "nasnet": [_nasnet([[1, "conv1", 0, "max7", "concat"], [2, "identity", 1, "identity", "add"]]),
               _nasnet([[0, "identity", 1, "dil_conv3", "add"], [2, "max5", 0, "conv1x3_3x1", "concat"]])],
    "enas-macro": [_macro("max3", "conv3", "avg3"), _macro("sep5", "max3", "max3")],
    "resnet20": [{"space": "resnet20", "block": "basic"}],  # its one architecture: a real network
    "nas-rl-cnn": [_nas_rl((3, 3), (5, 7), (1, 1)), _nas_rl((1, 1), (3, 1), (1, 1)),
                   _nas_rl((1, 1), (1, 1), (1, 5))],  # one filter larger than 1x1 is enough
    "nb201": [_nb201("nor_conv_3x3", "none", "skip_connect", "none", "none", "avg_pool_3x3"),
              _nb201("none", "none", "none", "nor_conv_1x1", "none", "none"),
              _nb201("avg_pool_3x3", "none", "nor_conv_3x3", "skip_connect", "none", "skip_connect")],
}
IMAGE_SPACES = [name for name in list_spaces() if space_class(name).task_kind == IMAGE]


def _space(name: str, arch: dict[str, Any]) -> Any:
    options = {"num_nodes": len(arch["normal"])} if "normal" in arch else {}
    options |= {"num_layers": len(arch["layers"])} if "layers" in arch else {}
    return create_space(name, **options)


@pytest.mark.parametrize("name", IMAGE_SPACES)
def test_hand_made_collapses_are_named_and_sound_cells_are_not(name: str) -> None:
    assert name in DEGENERATE and name in SOUND, f"add hand-made degenerate and sound cells of {name}"
    for arch_json, phrase in DEGENERATE[name]:
        space = _space(name, arch_json)
        reasons = space.degenerate_reasons(space.arch_from_json(arch_json))
        assert reasons and all(isinstance(r, str) for r in reasons), arch_json
        assert any(phrase in r for r in reasons), (arch_json, reasons)
    for arch_json in SOUND[name]:
        space = _space(name, arch_json)
        assert space.degenerate_reasons(space.arch_from_json(arch_json)) == [], arch_json


def test_weights_are_measured_from_the_op_table() -> None:
    assert {op for op, factory in OPS.items() if factory_has_parameters(factory)} == {
        "conv3", "conv5", "sep3", "sep5"}

    class Scale(nn.Module):  # a variant's own op with a weight, under a name the rules have never seen
        def __init__(self) -> None:
            super().__init__()
            self.gain = nn.Parameter(torch.ones(1))

        def forward(self, x: Any) -> Any:
            return x * self.gain

    table = {"identity": OPS["identity"], "scale": lambda c_in, c_out, stride, affine=True: Scale()}
    cls = micro_space_class("degenerate-test", {"description": "test", "ops": ("identity", "scale"),
                                                "op_table": table, "num_nodes": 2})
    space = cls(cls.Options())
    scaled = space.arch_from_json({"space": "degenerate-test", "normal": [[1, "scale", 0, "identity"]] * 2,
                                   "reduce": [[0, "identity", 1, "identity"]] * 2})
    assert space.degenerate_reasons(scaled) == []
    plain = space.arch_from_json({"space": "degenerate-test", "normal": [[1, "identity", 0, "identity"]] * 2,
                                  "reduce": [[0, "identity", 1, "identity"]] * 2})
    assert space.degenerate_reasons(plain) == ["the normal cell has no operation with weights: it uses only "
                                               "identity"]


# -- derive -------------------------------------------------------------------------------------
SOUND_LOW = _nb201("nor_conv_3x3", "none", "skip_connect", "none", "none", "avg_pool_3x3")
SOUND_HIGH = _nb201("nor_conv_3x3", "nor_conv_3x3", "nor_conv_1x1", "none", "skip_connect", "nor_conv_3x3")
COLLAPSED = _nb201("skip_connect", "none", "skip_connect", "skip_connect", "none", "skip_connect")
ZERO = _nb201(*["none"] * 6)
REWARDS = {str(SOUND_LOW["edges"]): 60.0, str(SOUND_HIGH["edges"]): 70.0, str(COLLAPSED["edges"]): 90.0,
           str(ZERO["edges"]): 10.0}


class FakeController:
    """Samples a fixed list of architectures, in turn; ``greedy`` is the first."""

    def __init__(self, space: Any, archs: list[dict[str, Any]]) -> None:
        self.values = [space.to_decisions(space.arch_from_json(a)) for a in archs]
        self.calls = 0

    def sample(self, n: int) -> list[Any]:
        out = [self.values[(self.calls + i) % len(self.values)] for i in range(n)]
        self.calls += n
        return out

    def greedy(self) -> Any:
        return self.values[0]


class FakeEvaluator:
    """Scores by a reward table; remembers what it was asked to score."""

    def __init__(self, space: Any) -> None:
        self.space, self.scored = space, []

    def submit(self, archs: list[Any], full: bool = False) -> list[Any]:
        assert full
        self.scored.extend(self.space.arch_to_json(a) for a in archs)
        return archs

    def wait(self, ticket: list[Any], should_stop: Any) -> list[float] | None:
        return None if should_stop() else [REWARDS[str(list(a.edges))] for a in ticket]


def _parts(samples: list[dict[str, Any]]) -> SearchParts:
    space = create_space("nb201")
    return SearchParts(space, FakeController(space, samples), FakeEvaluator(space), None)


def _derive(parts: SearchParts, **kw: Any) -> Any:
    settings = {"samples": 3, "best_seen": None, "sound_seen": None, "allow_degenerate": False,
                "should_stop": lambda: False, **kw}
    return derive_best(parts, **settings)


def test_derive_prefers_a_sound_candidate_over_a_higher_rewarded_collapse() -> None:
    parts = _parts([COLLAPSED, SOUND_LOW, ZERO, SOUND_HIGH])
    chosen = _derive(parts, best_seen=COLLAPSED)
    assert chosen.architecture["edges"] == SOUND_LOW["edges"] and chosen.reward == 60.0
    assert chosen.degenerate == []
    assert [a["edges"] for a in parts.evaluator.scored] == [SOUND_LOW["edges"]]  # collapses unscored


def test_allow_degenerate_keeps_the_best_reward() -> None:
    chosen = _derive(_parts([COLLAPSED, SOUND_LOW, SOUND_HIGH]), allow_degenerate=True)
    assert chosen.architecture["edges"] == COLLAPSED["edges"] and chosen.reward == 90.0
    assert chosen.degenerate and "skip_connect" in chosen.degenerate[0]


def test_when_every_candidate_collapsed_derive_samples_more() -> None:
    # greedy + 3 samples collapsed; the next controller batch holds a sound architecture
    parts = _parts([COLLAPSED, ZERO, COLLAPSED, ZERO, SOUND_HIGH, ZERO])
    chosen = _derive(parts)
    assert chosen.architecture["edges"] == SOUND_HIGH["edges"] and chosen.degenerate == []
    assert [a["edges"] for a in parts.evaluator.scored] == [SOUND_HIGH["edges"]]  # collapses unscored


def test_then_the_best_sound_architecture_seen_then_the_best_collapse_flagged() -> None:
    parts = _parts([ZERO, COLLAPSED])
    chosen = _derive(parts, best_seen=COLLAPSED, sound_seen=SOUND_LOW)
    assert chosen.architecture["edges"] == SOUND_LOW["edges"] and chosen.degenerate == []
    assert parts.controller.calls == 3 * (1 + EXTRA_ROUNDS)  # the extra rounds are bounded

    chosen = _derive(_parts([ZERO, COLLAPSED]))
    assert chosen.architecture["edges"] == COLLAPSED["edges"] and chosen.reward == 90.0
    assert chosen.degenerate == create_space("nb201").degenerate_reasons(
        create_space("nb201").arch_from_json(COLLAPSED))


def test_a_stop_during_derive_returns_nothing() -> None:
    assert _derive(_parts([SOUND_LOW]), should_stop=lambda: True) is None


# -- the loop -----------------------------------------------------------------------------------
def _search(tmp_path: Path, **overrides: Any) -> tuple[Any, list[dict[str, Any]]]:
    settings: dict[str, Any] = {"space": "nb201", "data": str(TABLE), "evaluator": "benchmark",
                                "controller": "random", "max_archs": 40, "controller_steps_per_epoch": 4,
                                "derive_samples": 4, **overrides}
    result = run_search(SearchConfig(**settings), tmp_path)
    return result, [e.payload for e in read_events(tmp_path / "events.jsonl") if e.type == "best"]


def test_every_best_event_says_whether_it_is_degenerate(tmp_path: Path) -> None:
    result, bests = _search(tmp_path)
    space = create_space("nb201")
    assert bests and all(b["degenerate"] == space.degenerate_reasons(space.arch_from_json(b["architecture"]))
                         for b in bests)
    assert bests[-1]["derived"] is True and bests[-1]["degenerate"] == []
    assert result.best_arch == bests[-1]["architecture"]


def test_a_space_of_parameter_free_ops_only_derives_a_flagged_collapse(tmp_path: Path) -> None:
    ops = ["none", "skip_connect", "avg_pool_3x3"]
    result, bests = _search(tmp_path, space_options={"ops": ops}, max_archs=20)
    assert result.status == "succeeded"
    assert bests[-1]["derived"] is True and bests[-1]["degenerate"]
    assert all(b["degenerate"] for b in bests)  # the live page flags each of them


def test_allow_degenerate_is_a_validated_setting() -> None:
    base = {"space": "nb201", "evaluator": "benchmark", "max_archs": 10}
    config, errors = validate_search(base)
    assert errors == {} and config["allow_degenerate"] is False
    config, errors = validate_search({**base, "allow_degenerate": True})
    engine = {k: v for k, v in config.items() if k != "final"}
    assert errors == {} and SearchConfig.from_dict({**engine, "data": "t"}).allow_degenerate is True
    assert "allow_degenerate" in validate_search({**base, "allow_degenerate": "yes please"})[1]


# -- the loop's state -----------------------------------------------------------------------------
def test_the_state_keeps_the_best_sound_architecture_across_a_checkpoint() -> None:
    state = LoopState()
    assert state.record(SOUND_LOW, 60.0) and state.record(COLLAPSED, 90.0, degenerate=True)
    assert not state.record(SOUND_HIGH, 70.0)  # below the best, yet the best sound one
    assert (state.best_arch, state.sound_arch, state.sound_reward) == (COLLAPSED, SOUND_HIGH, 70.0)
    restored = LoopState.from_state(state.to_state())
    assert (restored.sound_arch, restored.sound_reward, restored.best_arch) == (SOUND_HIGH, 70.0, COLLAPSED)
    older = {k: v for k, v in state.to_state().items() if not k.startswith("sound_")}
    assert LoopState.from_state(older).sound_arch is None  # a checkpoint from before the check


def test_a_checkpoint_without_the_new_setting_resumes_at_its_default() -> None:
    config = SearchConfig(space="nb201", data="t", evaluator="benchmark", max_archs=5).to_dict()
    older = {k: v for k, v in config.items() if k != "allow_degenerate"}
    check_same_config(older, config, "here")  # no difference: False is the default
    with pytest.raises(CheckpointError, match="allow_degenerate"):
        check_same_config(older, {**config, "allow_degenerate": True}, "here")
