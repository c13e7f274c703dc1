"""Randomness on the data's device: on CPU exactly the generators and batches used before; a state
saved on another device type reseeds (with a warning) instead of failing a resume."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch

from searchcore.accel import augmentation_generator, device_generator, device_loader, restore_generator
from searchcore.data import BatchLoader, load_image_dataset
from searchcore.evaluators import EvaluatorContext, create_evaluator
from searchcore.spaces import create_space

TINY = Path(__file__).resolve().parents[2] / "fixtures" / "cifar10_tiny_png.zip"
CPU = torch.device("cpu")
# What a CUDA (Philox) generator's get_state() holds: seed and offset, 16 bytes; a CPU one holds 5,056.
CUDA_STATE = torch.zeros(16, dtype=torch.uint8)


@pytest.fixture(scope="module")
def data():
    return load_image_dataset(TINY, image_size=16, seed=0)


def test_cpu_generators_draw_the_stream_used_before() -> None:
    g = device_generator(7, CPU)
    assert g.device.type == "cpu"
    before = torch.Generator().manual_seed(7)
    assert torch.equal(torch.randperm(50, generator=g), torch.randperm(50, generator=before))
    old = torch.Generator().manual_seed(3)
    assert augmentation_generator(old, CPU) is old  # the very generator: draws interleave as before


@pytest.mark.parametrize("form", ["seed", "generator"])
def test_device_loader_on_cpu_gives_bitwise_the_previous_batches(data, form: str) -> None:
    common = {"mean": data.mean, "std": data.std, "shuffle": True, "augment": True, "channels_last": True}
    given = {"seed": 5} if form == "seed" else {"generator": torch.Generator().manual_seed(5)}
    new = device_loader(data.train, 8, device=CPU, **given, **common)
    old = BatchLoader(data.train, 8, generator=torch.Generator().manual_seed(5), **common)
    for _ in range(2):  # two epochs: the permutation and the crops/flips continue identically
        for (xa, ya), (xb, yb) in zip(new, old, strict=True):
            assert torch.equal(xa, xb) and torch.equal(ya, yb)
    assert new.images.device.type == "cpu" and new.images.dtype == torch.uint8  # kept as uint8, once


def test_device_loader_needs_exactly_one_source_of_randomness(data) -> None:
    for given in ({}, {"seed": 1, "generator": torch.Generator()}):
        with pytest.raises(ValueError, match="exactly one of seed or generator"):
            device_loader(data.train, 8, mean=data.mean, std=data.std, device=CPU, **given)


def test_a_state_from_another_device_type_reseeds_with_a_warning(caplog) -> None:
    g = torch.Generator().manual_seed(1)
    own = g.get_state()
    torch.rand(3, generator=g)
    assert restore_generator(g, own, fallback_seed=9)
    assert torch.equal(torch.rand(3, generator=g), torch.rand(3, generator=torch.Generator().manual_seed(1)))
    with caplog.at_level(logging.WARNING, logger="searchcore.accel.rng"):
        assert not restore_generator(g, CUDA_STATE, fallback_seed=9)
    assert "another device type" in caplog.text
    assert torch.equal(torch.rand(3, generator=g), torch.rand(3, generator=torch.Generator().manual_seed(9)))


def test_shared_evaluator_resumes_a_checkpoint_whose_generator_came_from_cuda(data) -> None:
    space = create_space("enas-micro", num_nodes=2, cells_per_stage=1, channels=4)
    ctx = EvaluatorContext(space=space, device=CPU, seed=0, data=data)
    a = create_evaluator("shared", context=ctx, batch_size=8)
    state = {**a.state_dict(), "train_generator": CUDA_STATE, "steps": 4}
    b = create_evaluator("shared", context=ctx, batch_size=8)
    b.load_state_dict(state)  # weights, optimiser, counters kept; the augmentation stream reseeded
    assert b.steps == 4
    g = torch.Generator().manual_seed(2)
    assert b.train_epoch(lambda: space.sample_random(g)).steps == len(b.train_loader)
