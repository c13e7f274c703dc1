"""bf16 autocast: "auto" is CUDA-only; forced on (CPU bf16), losses, metrics, weights and the controller
stay fp32. The CPU bf16 run exercises the same code path a CUDA run takes."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from searchcore.accel import autocast, resolve_autocast
from searchcore.data import load_image_dataset
from searchcore.evaluators import EvaluatorContext, create_evaluator
from searchcore.events import Emitter, ListSink
from searchcore.spaces import create_space
from searchcore.training.loop import FinalLoop, LoopSettings

TINY = Path(__file__).resolve().parents[2] / "fixtures" / "cifar10_tiny_png.zip"
CPU, CUDA = torch.device("cpu"), torch.device("cuda")


@pytest.fixture(scope="module")
def data():
    return load_image_dataset(TINY, image_size=16, seed=0)


def _evaluator(data, amp):
    torch.manual_seed(0)
    space = create_space("enas-micro", num_nodes=2, cells_per_stage=1, channels=4)
    ctx = EvaluatorContext(space=space, device=CPU, seed=0, data=data)
    return space, create_evaluator("shared", context=ctx, batch_size=8, amp=amp)


def test_auto_is_on_for_cuda_only_and_bad_values_are_refused() -> None:
    for option in ("auto", True, None):
        assert resolve_autocast(option, CUDA) and not resolve_autocast(option, CPU)
    assert resolve_autocast("on", CPU)
    assert not resolve_autocast("off", CUDA) and not resolve_autocast(False, CUDA)
    with pytest.raises(ValueError, match="autocast must be one of auto, on, off"):
        resolve_autocast("fp16", CUDA)
    with autocast(False, CPU):
        assert not torch.is_autocast_enabled("cpu")
    with autocast(True, CPU):
        assert torch.is_autocast_enabled("cpu") and torch.get_autocast_dtype("cpu") == torch.bfloat16


def test_default_amp_is_off_on_cpu(data) -> None:
    _, ev = _evaluator(data, amp=True)
    assert ev.amp is False


def test_forced_bf16_step_keeps_loss_weights_and_controller_fp32(data) -> None:
    space, ev = _evaluator(data, amp="on")
    g = torch.Generator().manual_seed(3)
    x, y = next(iter(ev.train_loader))
    loss, logits = ev._train_step(x, y, space.sample_random(g))
    assert logits.dtype == torch.bfloat16  # the forward really ran in bf16
    assert loss.dtype == torch.float32 and math.isfinite(float(loss.detach()))
    assert all(p.dtype == torch.float32 for p in ev.net.parameters())
    assert all(p.grad is None or p.grad.dtype == torch.float32 for p in ev.net.parameters())

    inside: list[bool] = []

    def sample():  # what the search loop passes: the controller samples here
        inside.append(torch.is_autocast_enabled("cpu"))
        return space.sample_random(g)

    stats = ev.train_epoch(sample)
    assert inside and not any(inside)  # the controller never runs under autocast
    assert isinstance(stats.loss, float) and math.isfinite(stats.loss) and 0.0 <= stats.accuracy <= 1.0
    assert 0.0 <= ev.reward(space.sample_random(g)) <= 1.0


def test_final_loop_under_forced_bf16_reports_fp32_metrics(data) -> None:
    torch.manual_seed(0)
    space = create_space("enas-micro", num_nodes=2, cells_per_stage=1, channels=4)
    model = space.build_child(space.sample_random(torch.Generator().manual_seed(1)), data.task())
    _, ev = _evaluator(data, amp="off")  # borrow its loaders (CPU, seeded)
    settings = LoopSettings(lr=0.05, epochs=1, deadline=None, drop_path=0.0, cutout=4, aux_weight=0.0,
                            label_smoothing=0.0, grad_clip=5.0, weight_decay=3e-4, autocast=True)
    sink = ListSink()
    loop = FinalLoop(model, ev.train_loader, ev.valid_batches, len(ev.train_loader), settings, Emitter(sink),
                     lambda: False, torch.Generator().manual_seed(0))
    x, y = next(iter(ev.train_loader))
    loss, logits = loop._step(x, y)
    assert logits.dtype == torch.bfloat16 and loss.dtype == torch.float32
    outcome = loop.run()
    row = outcome.history[0]
    assert isinstance(row["loss"], float) and math.isfinite(row["loss"]) and 0.0 <= row["accuracy"] <= 1.0
    assert [e.type for e in sink.events].count("final_epoch") == 1
