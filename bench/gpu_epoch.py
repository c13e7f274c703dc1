"""One ENAS-micro search epoch on a GPU (issue 10, item 3): child training and controller training.

Run: ``python -m bench.gpu_epoch`` (CUDA when there is one, else CPU; ``--device cpu`` forces it).
Defaults are the paper's search sizes: 45,000 train / 5,000 valid synthetic CIFAR-shaped images
(uint8, 3x32x32, 10 classes), ENAS micro with 6 normal layers (``cells_per_stage=2``, plus 2
reduction cells), 5 nodes, 20 channels, all 5 ops, batch 160. Tiny sizes for a CPU check:
``--train-images 64 --valid-images 32 --channels 4 --cells-per-stage 1 --nodes 2 --batch 16 --sweep 32``.

Measured on the real path (``SharedEvaluator.train_epoch`` with the ENAS LSTM controller sampling an
architecture per step, on-device loader with crop + flip, bf16 autocast "auto", cuDNN autotune):

- child training: seconds for one pass over the train split, at ``--batch`` and at the batch with the
  most images per second among ``--sweep`` (each candidate timed over ``--sweep-steps`` steps after
  ``--warmup-steps``; the best one then gets a full epoch). A pass cut short by ``--time-cap`` is
  extrapolated from the steps done and marked so in the table and JSON.
- whole epoch: child training plus ``--controller-steps`` controller steps (sample, reward on the next
  validation minibatch, REINFORCE update), as ``SearchLoop`` runs them.
- host syncs: on CUDA, synchronising calls counted (``accel.count_host_syncs``) during a measured
  child-training pass: a handful per epoch (the metric read-back, the timer's synchronize), never
  one per step (``bench.gpu_journey`` fails the step past max(4, steps / 10)).
- memory (CUDA): ``torch.cuda.max_memory_allocated`` over ``--mem-steps`` training steps of one
  sampled architecture, shared supernet vs the standalone child, each from the same resident data;
  the ratio of totals (data + model + optimiser + activations, like the CPU bench's whole-process
  RSS) has the target <= 1.2; the ratio without the data is reported beside it.

Reference (issue 10): a plain eager supernet of these sizes took 22.6 s per child-training epoch at
batch 160 and 7.0 s at batch 2,560 on one H200. Target: <= 10 s per epoch at batch 160 on an
H100/H200. Writes ``gpu_epoch.json`` under ``--results-dir`` (default ``bench/results``).
"""

from __future__ import annotations

import argparse
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from bench._common import format_table, write_result
from bench._gpu_memory import free, peak_memory, synchronize
from searchcore.accel import count_host_syncs
from searchcore.config import SearchConfig
from searchcore.controllers import create_controller
from searchcore.data.dataset import ImageDataset, ImageSplit
from searchcore.data.report import DatasetReport
from searchcore.device import resolve_device
from searchcore.evaluators import EvaluatorContext, create_evaluator
from searchcore.spaces import create_space
from searchcore.spaces.ops import MICRO_OPS

logger = logging.getLogger(__name__)

REFERENCE = {"eager_h200_epoch_s_batch160": 22.6, "eager_h200_epoch_s_batch2560": 7.0}
TARGET = {"epoch_s_batch160": 10.0, "memory_ratio": 1.2}
CONTROLLER_STEPS = SearchConfig.__dataclass_fields__["controller_steps_per_epoch"].default


@dataclass(frozen=True)
class Sizes:
    train_images: int
    valid_images: int
    image_size: int
    channels: int
    cells_per_stage: int
    nodes: int

    def space_options(self) -> dict[str, Any]:
        return {"channels": self.channels, "cells_per_stage": self.cells_per_stage, "num_nodes": self.nodes,
                "ops": list(MICRO_OPS)}


def synthetic_data(sizes: Sizes, seed: int, classes: int = 10) -> ImageDataset:
    """Random uint8 images and labels of CIFAR-10's shape: the speed does not depend on content."""
    g = torch.Generator().manual_seed(seed)
    side = sizes.image_size

    def split(n: int) -> ImageSplit:
        return ImageSplit(images=torch.randint(0, 256, (n, 3, side, side), generator=g, dtype=torch.uint8),
                          labels=torch.randint(0, classes, (n,), generator=g))

    names = [f"class{i}" for i in range(classes)]
    report = DatasetReport(class_names=names, counts={}, split_counts={}, image_sizes={}, image_size=side)
    return ImageDataset(train=split(sizes.train_images), valid=split(sizes.valid_images), test=split(0),
                        class_names=names, image_size=side, channels=3, mean=(0.5, 0.5, 0.5),
                        std=(0.29, 0.29, 0.29), report=report)


class EpochTimer:
    """The shared evaluator at one batch size plus the ENAS controller, stoppable after N steps or
    at a deadline (``time.monotonic()``)."""

    def __init__(self, data: ImageDataset, sizes: Sizes, batch: int, device: torch.device, amp: str,
                 seed: int) -> None:
        self.device = device
        self.space = create_space("enas-micro", **sizes.space_options())
        self.stop_after: int | None = None
        self.deadline: float | None = None
        self.steps_done = 0
        context = EvaluatorContext(space=self.space, device=device, seed=seed, data=data,
                                   should_stop=self._should_stop, on_step=self._on_step)
        self.evaluator = create_evaluator("shared", context=context, batch_size=batch, amp=amp)
        self.controller = create_controller("reinforce", decisions=self.space.decisions(),
                                            initial_nodes=self.space.initial_nodes, seed=seed)

    def _should_stop(self) -> bool:
        if self.stop_after is not None and self.steps_done >= self.stop_after:
            return True
        # at least one step is timed, so even a spent cap yields a (rough) figure
        return self.deadline is not None and self.steps_done >= 1 and time.monotonic() >= self.deadline

    def _on_step(self, done: int, total: int) -> None:
        self.steps_done = done

    def sample_arch(self) -> Any:
        with torch.no_grad():
            return self.space.from_decisions(self.controller.sample(1)[0])

    def train(self, stop_after: int | None = None, deadline: float | None = None) -> tuple[int, float]:
        """(steps, seconds) of one ``train_epoch``, stopped early as asked; the clock is read after
        the device finished."""
        self.stop_after, self.deadline, self.steps_done = stop_after, deadline, 0
        synchronize(self.device)
        start = time.perf_counter()
        stats = self.evaluator.train_epoch(self.sample_arch)
        synchronize(self.device)
        return stats.steps, time.perf_counter() - start

    def controller_phase(self, steps: int) -> float:
        """``steps`` x (sample, reward on the next validation minibatch, REINFORCE update)."""
        synchronize(self.device)
        start = time.perf_counter()
        for _ in range(steps):
            arch = self.space.from_decisions(self.controller.sample(1)[0])
            self.controller.update([float(self.evaluator.reward(arch))])
        synchronize(self.device)
        return time.perf_counter() - start

    def steps_per_epoch(self) -> int:
        return self.evaluator.steps_per_epoch()


def sweep_batch(data: ImageDataset, sizes: Sizes, batch: int, args: argparse.Namespace,
                device: torch.device) -> dict[str, Any]:
    """Seconds per step and images per second at ``batch`` over a few steps after a warm-up."""
    timer = EpochTimer(data, sizes, batch, device, args.amp, args.seed)
    timer.train(stop_after=args.warmup_steps)
    steps, seconds = timer.train(stop_after=args.sweep_steps)
    per_step = seconds / max(steps, 1)
    row = {"batch": batch, "steps": steps, "step_s": per_step, "images_per_s": steps * batch / seconds,
           "epoch_s_estimate": per_step * timer.steps_per_epoch()}
    del timer
    free(device)
    return row


def full_epoch(data: ImageDataset, sizes: Sizes, batch: int, args: argparse.Namespace, device: torch.device,
               deadline: float) -> dict[str, Any]:
    """One child-training pass (extrapolated if the deadline cuts it) plus the controller phase."""
    timer = EpochTimer(data, sizes, batch, device, args.amp, args.seed)
    timer.train(stop_after=args.warmup_steps)  # cuDNN autotune, allocator, first-touch
    total = timer.steps_per_epoch()
    with count_host_syncs(device) as syncs:
        steps, seconds = timer.train(deadline=deadline)
    child_s = seconds * total / max(steps, 1)
    controller_s = timer.controller_phase(args.controller_steps)
    del timer
    free(device)
    return {"batch": batch, "steps_per_epoch": total, "steps_timed": steps, "extrapolated": steps < total,
            "child_epoch_s": child_s, "controller_s": controller_s, "whole_epoch_s": child_s + controller_s,
            "host_syncs": syncs.count, "host_sync_examples": syncs.messages}


def run(args: argparse.Namespace) -> dict[str, Any]:
    device = resolve_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    started = time.monotonic()
    deadline = started + args.time_cap
    sizes = Sizes(args.train_images, args.valid_images, args.image_size, args.channels, args.cells_per_stage,
                  args.nodes)
    data = synthetic_data(sizes, args.seed)
    batches = list(dict.fromkeys([args.batch, *args.sweep]))
    sweep = []
    for batch in batches:  # the sweep gets at most a third of the cap
        if sweep and time.monotonic() > started + args.time_cap / 3:
            logger.warning("time cap: sweep stopped before batch %d", batch)
            break
        sweep.append(sweep_batch(data, sizes, batch, args, device))
        logger.info("batch %d: %.4f s/step, %.0f images/s", batch, sweep[-1]["step_s"],
                    sweep[-1]["images_per_s"])
    best = max(sweep, key=lambda row: row["images_per_s"])["batch"]
    epochs = {}
    for batch in dict.fromkeys([args.batch, best]):
        remaining = deadline - time.monotonic()
        share = remaining * (0.6 if batch == args.batch and best != args.batch else 0.85)
        epochs[batch] = full_epoch(data, sizes, batch, args, device, time.monotonic() + max(share, 0.0))
    memory = peak_memory(data, sizes.space_options(), args.batch, args, device)
    return {"device": str(device), "sizes": sizes.__dict__, "batch": args.batch, "best_batch": best,
            "sweep": sweep, "epochs": {str(k): v for k, v in epochs.items()}, "memory": memory,
            "wall_s": time.monotonic() - started}


def table(result: dict[str, Any]) -> str:
    rows = []
    for batch, e in result["epochs"].items():
        cut = e["extrapolated"]
        note = f" (extrapolated: {e['steps_timed']}/{e['steps_per_epoch']} steps)" if cut else ""
        ref = REFERENCE["eager_h200_epoch_s_batch160"] if int(batch) == 160 else ""
        target = f"<= {TARGET['epoch_s_batch160']}" if int(batch) == 160 else ""
        met = e["child_epoch_s"] <= TARGET["epoch_s_batch160"] if target else ""
        rows.append([f"child training epoch, batch {batch} (s){note}", e["child_epoch_s"], ref, target, met])
        rows.append([f"whole epoch with controller, batch {batch} (s)", e["whole_epoch_s"], "", "", ""])
        rows.append([f"host syncs in that child epoch, batch {batch}", str(e["host_syncs"]), "", "", ""])
    for row in result["sweep"]:
        rows.append([f"sweep batch {row['batch']}: images/s", row["images_per_s"], "", "", ""])
    mem = result["memory"]
    ratio = mem.get("ratio_total")
    rows.append(["peak memory shared / child (total)", "n/a (CPU)" if ratio is None else ratio, "",
                 f"<= {TARGET['memory_ratio']}", "" if ratio is None else ratio <= TARGET["memory_ratio"]])
    if ratio is not None:
        rows.append(["peak memory shared / child (without data)", mem["ratio_without_data"], "", "", ""])
    return format_table(["figure", "ours", "ref (H200 eager)", "target", "met"], rows)


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--train-images", type=int, default=45_000)
    p.add_argument("--valid-images", type=int, default=5_000)
    p.add_argument("--image-size", type=int, default=32)
    p.add_argument("--channels", type=int, default=20)
    p.add_argument("--cells-per-stage", type=int, default=2, help="normal cells per stage (2: 6 layers)")
    p.add_argument("--nodes", type=int, default=5)
    p.add_argument("--batch", type=int, default=160)
    p.add_argument("--sweep", type=lambda s: [int(v) for v in s.split(",") if v],
                   default=[320, 640, 1280, 2560], help="other batch sizes to try, comma-separated")
    p.add_argument("--warmup-steps", type=int, default=5)
    p.add_argument("--sweep-steps", type=int, default=30)
    p.add_argument("--controller-steps", type=int, default=CONTROLLER_STEPS)
    p.add_argument("--mem-steps", type=int, default=2)
    p.add_argument("--amp", default="auto", choices=["auto", "on", "off"], help="bf16 autocast")
    p.add_argument("--time-cap", type=float, default=200.0, help="seconds for the whole run (about)")
    p.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's default)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--results-dir", type=Path, default=None, help="where gpu_epoch.json goes")
    args = p.parse_args(argv)
    for name in ("train_images", "valid_images", "image_size", "channels", "cells_per_stage", "nodes",
                 "batch", "sweep_steps", "mem_steps"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    if any(b < 1 for b in args.sweep) or args.time_cap <= 0:
        p.error("sweep batches must be >= 1 and --time-cap > 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    result = run(args)
    print(table(result))
    print(f"device {result['device']}; {args.train_images} train / {args.valid_images} valid images; "
          f"best batch {result['best_batch']}; wall {result['wall_s']:.1f}s")
    payload = {"config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
               "reference": REFERENCE, "target": TARGET, **result}
    path = write_result("gpu_epoch", payload, args.results_dir)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
