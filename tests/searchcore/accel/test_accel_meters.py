"""Metrics summed on the device: the training loops read them back once per epoch, never per step.

A read of a tensor's value (``.item()``, ``float(t)``, ``int(t)``) dispatches
``aten._local_scalar_dense``; counting it on CPU is the same check ``count_host_syncs`` makes on a
GPU (where each such read waits for the stream)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from searchcore.accel import DeviceMeter, count_host_syncs
from searchcore.data import load_image_dataset
from searchcore.evaluators import EvaluatorContext, create_evaluator
from searchcore.events import Emitter, ListSink
from searchcore.spaces import create_space
from searchcore.training.loop import FinalLoop, LoopSettings

TINY = Path(__file__).resolve().parents[2] / "fixtures" / "cifar10_tiny_png.zip"
CPU = torch.device("cpu")


class ScalarReads(TorchDispatchMode):
    """Counts reads of tensor values by the host."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func is torch.ops.aten._local_scalar_dense.default:
            self.count += 1
        return func(*args, **(kwargs or {}))


@pytest.fixture(scope="module")
def data():
    return load_image_dataset(TINY, image_size=16, seed=0)


def test_meter_matches_host_arithmetic_and_reads_on_its_cadence() -> None:
    meter = DeviceMeter(CPU, read_every=2)
    assert meter.read().loss is None and not meter.due()
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, 1.0]])
    meter.update(torch.tensor(0.5, dtype=torch.bfloat16), logits, torch.tensor([0, 1, 1]))
    assert not meter.due()
    meter.update(torch.tensor(1.0), logits[:1], torch.tensor([1]))
    assert meter.due() and meter.loss_sum.dtype == torch.float32 and meter.correct.dtype == torch.int64
    reading = meter.read()
    assert reading.seen == 4 and reading.accuracy == 0.5
    assert reading.loss == pytest.approx((0.5 * 3 + 1.0) / 4)
    with pytest.raises(ValueError, match="read_every"):
        DeviceMeter(CPU, read_every=0)


def test_sync_counting_is_none_on_cpu() -> None:
    with count_host_syncs(CPU) as syncs:
        float(torch.ones(()))
    assert syncs.count is None


def _shared_reads(data, batch_size: int) -> tuple[int, int]:
    space = create_space("enas-micro", num_nodes=2, cells_per_stage=1, channels=4)
    ctx = EvaluatorContext(space=space, device=CPU, seed=0, data=data)
    ev = create_evaluator("shared", context=ctx, batch_size=batch_size)
    g = torch.Generator().manual_seed(3)
    archs = iter([space.sample_random(g) for _ in range(100)])  # sampled up front: no controller reads
    with ScalarReads() as reads:
        stats = ev.train_epoch(lambda: next(archs))
    return stats.steps, reads.count


def test_shared_child_training_reads_metrics_once_per_epoch_whatever_the_steps(data) -> None:
    (few, reads_few), (many, reads_many) = _shared_reads(data, 16), _shared_reads(data, 4)
    assert many >= 3 * few  # e.g. 5 vs 20 steps
    assert reads_few == reads_many == 2  # loss and accuracy, after the epoch


def test_final_training_reads_metrics_once_per_epoch_whatever_the_steps(data) -> None:
    counts = []
    for batch_size in (16, 4):
        torch.manual_seed(0)
        space = create_space("enas-micro", num_nodes=2, cells_per_stage=1, channels=4)
        model = space.build_child(space.sample_random(torch.Generator().manual_seed(1)), data.task())
        ctx = EvaluatorContext(space=space, device=CPU, seed=0, data=data)
        loader = create_evaluator("shared", context=ctx, batch_size=batch_size).train_loader
        settings = LoopSettings(lr=0.05, epochs=1, deadline=None, drop_path=0.1, cutout=4, aux_weight=0.0,
                                label_smoothing=0.0, grad_clip=5.0, weight_decay=3e-4, autocast=False)
        loop = FinalLoop(model, loader, [], len(loader), settings, Emitter(ListSink()), lambda: False,
                         torch.Generator().manual_seed(0))
        with ScalarReads() as reads:
            _, _, _, seen = loop.train_epoch(0)
        counts.append((len(loader), reads.count))
        assert seen == len(data.train.labels)
    (few, reads_few), (many, reads_many) = counts
    assert many >= 3 * few and reads_few == reads_many == 2, counts
