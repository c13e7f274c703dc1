"""Contract tests run on every registered search space (``list_spaces()``)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
import torch
from torch import nn

from searchcore.registry import UnknownNameError
from searchcore.schema import OptionsError
from searchcore.spaces import (
    SearchSpace,
    TaskSpec,
    create_space,
    list_spaces,
    register_space,
    space_class,
    unregister_space,
)
from searchcore.spaces._micro_space import MicroSpace, create_micro_space
from searchcore.spaces.base import LANGUAGE
from searchcore.spaces.ops import OPS, ReLUConvBN

SMALL = {"channels": 4, "cells_per_stage": 1, "num_nodes": 2, "num_layers": 3, "blocks_per_stage": 1}
TASKS = [(TaskSpec(3, 16, 10), 2), (TaskSpec(1, 16, 5), 1),
         (TaskSpec(3, 9, 4), 2), (TaskSpec(1, 13, 3), 1)]  # odd sides halve like the strided convs
LANGUAGE_TASKS = [(TaskSpec.language(30, 5), 2), (TaskSpec.language(7, 1), 1)]  # (seq_len, batch) ids
SPACES = list_spaces()
SUPERNET_SPACES = [name for name in SPACES if space_class(name).has_supernet]  # weight sharing possible
IMAGE_SPACES = [name for name in SPACES if space_class(name).task_kind != LANGUAGE]


def is_language(name: str) -> bool:
    return space_class(name).task_kind == LANGUAGE


def tasks_for(name: str) -> list[tuple[TaskSpec, int]]:
    return LANGUAGE_TASKS if is_language(name) else TASKS


def task_for(name: str) -> TaskSpec:
    """The task each single-task test uses: a 16x16 RGB image, or a 30-word vocabulary."""
    return tasks_for(name)[0][0]


def inputs(task: TaskSpec, batch: int, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    if task.kind == LANGUAGE:
        return torch.randint(0, task.vocab_size, (task.seq_len, batch), generator=generator)
    return torch.randn(batch, task.in_channels, task.image_size, task.image_size, generator=generator)


def targets(task: TaskSpec, batch: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(99)
    shape = (task.seq_len, batch) if task.kind == LANGUAGE else (batch,)
    return torch.randint(0, task.num_classes, shape, generator=generator)


def out_shape(task: TaskSpec, batch: int) -> tuple[int, ...]:
    """Image: one row of class logits per image; language: one row of word logits per position."""
    if task.kind == LANGUAGE:
        return (task.seq_len, batch, task.vocab_size)
    return (batch, task.num_classes)


def loss_of(out: Any, y: torch.Tensor) -> torch.Tensor:
    out = logits(out)
    return nn.functional.cross_entropy(out.reshape(-1, out.size(-1)), y.reshape(-1))


SMALL_LANGUAGE = {"num_nodes": 4, "hidden_size": 8, "leaves": 2}  # 4 enas-rnn nodes: some edges unused


def small_space(name: str, **extra: Any) -> SearchSpace:
    names = space_class(name).schema.names()
    small = {**SMALL, **SMALL_LANGUAGE} if is_language(name) else SMALL
    return create_space(name, **{k: v for k, v in small.items() if k in names}, **extra)


def archs(space: SearchSpace, n: int = 4, seed: int = 0) -> list[Any]:
    generator = torch.Generator().manual_seed(seed)
    return [space.sample_random(generator) for _ in range(n)]


def load_shared(child: nn.Module, supernet: nn.Module) -> None:
    """The child's weights from the supernet: its own helper, else by matching names."""
    if hasattr(child, "load_from_supernet"):
        child.load_from_supernet(supernet)
        return
    state = supernet.state_dict()
    child.load_state_dict({k: v for k, v in state.items() if k in child.state_dict()}, strict=False)


def grads(model: nn.Module) -> dict[str, torch.Tensor]:
    return {n: p.grad for n, p in model.named_parameters() if p.grad is not None}


def logits(out: Any) -> torch.Tensor:
    return out[0] if isinstance(out, tuple) else out


def test_the_mission_spaces_are_registered() -> None:
    assert {"enas-micro", "enas-macro", "nb201"} <= set(SPACES)


@pytest.mark.parametrize(("name", "task", "batch"),
                         [(name, task, batch) for name in SPACES for task, batch in tasks_for(name)])
def test_supernet_and_child_forward_shapes(name: str, task: TaskSpec, batch: int) -> None:
    space = small_space(name)
    supernet = space.build_supernet(task) if space.has_supernet else None
    x = inputs(task, batch)
    for arch in archs(space, 2):
        for mode in (True, False):
            child = space.build_child(arch, task).train(mode)
            assert logits(child(x)).shape == out_shape(task, batch)
            if supernet is not None:
                supernet.train(mode)
                assert supernet(x, arch).shape == out_shape(task, batch)


@pytest.mark.parametrize("name", [n for n in SPACES if n not in SUPERNET_SPACES])
def test_a_space_without_supernet_refuses_to_build_one(name: str) -> None:
    with pytest.raises(NotImplementedError, match="supernet"):
        small_space(name).build_supernet(task_for(name))


@pytest.mark.parametrize("name", SPACES)
def test_child_trains_one_step(name: str) -> None:
    """Forward, backward and an SGD step reach every weight of the child (none is dead)."""
    space, task = small_space(name), task_for(name)
    child = space.build_child(archs(space, 1, seed=9)[0], task).train()
    optimizer = torch.optim.SGD(child.parameters(), lr=0.1)
    x, y = inputs(task, 4), targets(task, 4)
    before = [p.detach().clone() for p in child.parameters()]
    loss = loss_of(child(x), y)
    loss.backward()
    optimizer.step()
    assert torch.isfinite(loss)
    moved = [not torch.equal(b, p) for b, p in zip(before, child.parameters(), strict=True)]
    assert sum(moved) > 0.5 * len(moved)


@pytest.mark.parametrize("name", SUPERNET_SPACES)
def test_supernet_backward_reaches_only_the_sampled_path(name: str) -> None:
    space, task = small_space(name), task_for(name)
    supernet = space.build_supernet(task).train()
    x, y = inputs(task, 2), targets(task, 2)
    total = dict(supernet.named_parameters())
    for arch in archs(space, 3, seed=1):
        supernet.zero_grad(set_to_none=True)
        torch.manual_seed(3)  # the same dropout masks in both (language models drop in training)
        loss_of(supernet(x, arch), y).backward()
        child = space.build_child(arch, task).train()
        load_shared(child, supernet)
        torch.manual_seed(3)
        loss_of(child(x), y).backward()
        got, want = grads(supernet), {n: g for n, g in grads(child).items() if n in total}
        # a space whose choices have no parameters (nas-rl-rnn's tree) has the whole net on every path
        whole = set(child.state_dict()) >= set(supernet.state_dict())
        assert 0 < len(got) <= len(total) if whole else 0 < len(got) < len(total)
        assert set(got) == set(want)
        for n in want:
            if want[n].shape == got[n].shape:  # ENAS-micro's combine weight is gathered per arch
                torch.testing.assert_close(got[n], want[n], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", SUPERNET_SPACES)
def test_child_with_supernet_weights_computes_the_same_function(name: str) -> None:
    space, task = small_space(name), task_for(name)
    supernet = space.build_supernet(task)
    x = inputs(task, 3)
    for arch in archs(space, 3, seed=2):
        child = space.build_child(arch, task)
        load_shared(child, supernet)
        supernet.train(), child.train()
        torch.manual_seed(4)  # the same dropout masks in both
        expected = child(x)
        torch.manual_seed(4)
        torch.testing.assert_close(expected, supernet(x, arch), rtol=1e-5, atol=1e-5)
        supernet.eval(), child.eval()  # running statistics were updated identically
        with torch.no_grad():
            torch.testing.assert_close(child(x), supernet(x, arch), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", IMAGE_SPACES)  # a memory layout of 4-D image tensors
def test_channels_last_matches_contiguous(name: str) -> None:
    space, task = small_space(name), TaskSpec(3, 16, 10)
    arch = archs(space, 1, seed=3)[0]
    torch.manual_seed(0)
    child = space.build_child(arch, task).double().train()
    x = torch.randn(2, 3, 16, 16, dtype=torch.float64)
    ref = child(x)
    ref.sum().backward()
    ref_grads = {n: g.clone() for n, g in grads(child).items()}
    child.zero_grad(set_to_none=True)
    child = child.to(memory_format=torch.channels_last)
    out = child(x.to(memory_format=torch.channels_last))
    out.sum().backward()
    torch.testing.assert_close(out, ref)
    for n, g in grads(child).items():
        torch.testing.assert_close(g, ref_grads[n])


@pytest.mark.parametrize("name", SPACES)
def test_json_round_trip(name: str) -> None:
    space = small_space(name)
    for arch in archs(space, 5, seed=4):
        data = json.loads(json.dumps(space.arch_to_json(arch)))
        assert data["space"] == name
        assert space.arch_from_json(data) == arch


@pytest.mark.parametrize("name", SPACES)
def test_decisions_round_trip_and_validation(name: str) -> None:
    space = small_space(name)
    decisions = space.decisions()
    assert len({d.key for d in decisions}) == len(decisions)
    for arch in archs(space, 5, seed=5):
        values = space.to_decisions(arch)
        assert space.from_decisions(values) == arch
    with pytest.raises(ValueError):
        space.from_decisions([*values, 0])
    if not decisions:  # one architecture (a fixed network): nothing more to get wrong
        assert values == [] and space.size() == 1
        return
    with pytest.raises(ValueError):
        space.from_decisions(values[:-1])
    bad = list(values)
    first = decisions[0]
    bad[0] = len(first.choices) if first.kind != "skip" else (2,) * len(first.choices)
    with pytest.raises(ValueError):
        space.from_decisions(bad)


@pytest.mark.parametrize("name", SPACES)
def test_graph_references_only_its_own_nodes(name: str) -> None:
    space = small_space(name)
    for arch in archs(space, 3, seed=6):
        cells = space.graph(arch)["cells"]
        assert cells
        for cell in cells:
            ids = [n["id"] for n in cell["nodes"]]
            assert len(set(ids)) == len(ids)
            assert {n["kind"] for n in cell["nodes"]} <= {"input", "op", "output"}
            assert any(n["kind"] == "input" for n in cell["nodes"])
            assert any(n["kind"] == "output" for n in cell["nodes"])
            for edge in cell["edges"]:
                assert edge["source"] in ids and edge["target"] in ids
                assert isinstance(edge["label"], str)
        json.dumps(cells)


@pytest.mark.parametrize("name", SPACES)
@pytest.mark.parametrize(
    "payload",
    [[], "text", {}, {"space": "some-other-space"}, {"space": None}],
    ids=["list", "string", "empty", "other-space", "null-space"],
)
def test_bad_json_raises_value_error(name: str, payload: Any) -> None:
    with pytest.raises(ValueError):
        small_space(name).arch_from_json(payload)


@pytest.mark.parametrize("name", SPACES)
def test_describe_and_option_specs_are_json(name: str) -> None:
    space = small_space(name)
    described = json.loads(json.dumps(space.describe()))
    assert described["name"] == name
    assert int(described["size"]) == space.size() >= 1
    assert (space.size() == 1) == (not space.decisions())  # only a space without decisions has one arch
    assert len(described["decisions"]) == len(space.decisions())
    specs = [s.to_dict() for s in space_class(name).option_specs()]
    json.dumps(specs)
    assert {s["name"] for s in specs} == {f.name for f in dataclasses.fields(space_class(name).Options)}


# -- a variant registered by a test: the micro cell machinery with another op list and table ----
def conv1(c_in: int, c_out: int, stride: int, affine: bool = True) -> ReLUConvBN:
    return ReLUConvBN(c_in, c_out, 1, stride, affine)


TINY_MICRO = {
    "description": "test variant: micro cells over conv1 (not in OPS), conv3 and max3",
    "ops": ("conv1", "conv3", "max3"),
    "op_table": {**OPS, "conv1": conv1},
    "num_nodes": 2,
    "cells_per_stage": 1,
    "channels": 4,
}


@pytest.fixture
def tiny_micro() -> Any:
    @register_space
    def tiny_micro(**options: Any) -> MicroSpace:
        return create_micro_space("tiny-micro", TINY_MICRO, options)

    yield "tiny-micro"
    unregister_space("tiny-micro")


def test_a_variant_entry_point_brings_its_own_op_list(tiny_micro: str) -> None:
    assert tiny_micro in list_spaces()
    cls = space_class(tiny_micro)
    assert cls.name == tiny_micro and cls.schema["ops"].choices == TINY_MICRO["ops"]
    assert cls.schema.defaults() == {"ops": ("conv1", "conv3", "max3"), "num_nodes": 2,
                                     "cells_per_stage": 1, "channels": 4}
    space = create_space(tiny_micro, ops=["conv1", "max3"])
    assert type(space) is cls
    assert {d.choices for d in space.decisions() if d.kind == "op"} == {("conv1", "max3")}
    with pytest.raises(OptionsError, match="sep3"):
        create_space(tiny_micro, ops=["sep3"])  # an enas-micro op, not this variant's
    with pytest.raises(OptionsError, match="conv1"):
        create_space("enas-micro", ops=["conv1"])


def test_a_variant_builds_and_shares_weights_like_the_builtin_spaces(tiny_micro: str) -> None:
    space, task = create_space(tiny_micro), TaskSpec(3, 9, 10)
    supernet = space.build_supernet(task)
    conv1_count = sum(isinstance(m, ReLUConvBN) and m.conv.kernel_size == (1, 1) for m in supernet.modules())
    assert conv1_count > 0
    x = torch.randn(2, 3, 9, 9)
    uses_conv1 = 0
    for arch in archs(space, 4, seed=8):
        data = json.loads(json.dumps(space.arch_to_json(arch)))
        assert space.arch_from_json(data) == arch and space.from_decisions(space.to_decisions(arch)) == arch
        uses_conv1 += "conv1" in json.dumps(data)
        child = space.build_child(arch, task, aux_head=True).train()
        load_shared(child, supernet)
        supernet.train()
        torch.testing.assert_close(logits(child(x)), supernet(x, arch), rtol=1e-5, atol=1e-5)
        logits(child(x)).sum().backward()
    assert uses_conv1
    foreign = {"space": "enas-micro", "normal": [[0, "conv1", 1, "max3"]], "reduce": [[0, "max3", 1, "max3"]]}
    with pytest.raises(ValueError, match="unknown operation 'conv1'"):
        create_space("enas-micro").arch_from_json(foreign)


def test_unregistering_a_variant_forgets_it() -> None:
    @register_space
    def short_lived(**options: Any) -> MicroSpace:
        return create_micro_space("short-lived", TINY_MICRO, options)

    assert space_class("short-lived").schema["ops"].choices == TINY_MICRO["ops"]
    unregister_space("short-lived")
    assert "short-lived" not in list_spaces()
    for lookup in (create_space, space_class, unregister_space):
        with pytest.raises(UnknownNameError):
            lookup("short-lived")


@pytest.mark.parametrize("name", SPACES)
def test_unknown_child_override_raises_type_error(name: str) -> None:
    space = small_space(name)
    with pytest.raises(TypeError):
        space.build_child(archs(space, 1)[0], task_for(name), no_such_override=3)


class _Fixed(nn.Module):
    """A supernet pinned to one architecture, so it can be exported like a child."""

    def __init__(self, supernet: nn.Module, arch: Any) -> None:
        super().__init__()
        self.supernet, self.arch = supernet, arch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.supernet(x, self.arch)


@pytest.mark.slow
@pytest.mark.parametrize("name", SPACES)
def test_child_and_supernet_export(name: str) -> None:
    ort = pytest.importorskip("onnxruntime")
    space, task = small_space(name), task_for(name)
    arch = archs(space, 1, seed=7)[0]
    x = inputs(task, 2)
    models = [space.build_child(arch, task).eval()]
    if space.has_supernet:
        models.append(_Fixed(space.build_supernet(task), arch).eval())
    for model in models:
        with torch.no_grad():
            expected = model(x)
            program = torch.export.export(model, (x,))
            torch.testing.assert_close(program.module()(x), expected)
        onnx_program = torch.onnx.export(model, (x,), dynamo=True)
        session = ort.InferenceSession(onnx_program.model_proto.SerializeToString())
        (out,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
        torch.testing.assert_close(torch.from_numpy(out), expected, rtol=1e-4, atol=1e-4)
