"""Absolute CPU speed of an ENAS-micro shared-weight search at a peer's published configuration.

Run: ``.venv/bin/python -m bench.speed [--epochs 2] [--threads 2]``. Configuration (NNI 3.0's
one-shot ENAS as measured here): ENAS micro, 16 initial channels, 8 cells (``cells_per_stage=2``:
6 normal + 2 reduction), 5 nodes, all 5 ops, batch 64, 2 threads, on the CIFAR-10 subset train zip
split 0.8/0.2/0.0 (1,600 train / 400 valid: 25 steps per epoch). The peer: 1.19 s per step, about
36 s per epoch, 2.4 GiB peak RSS. Targets: <= 0.4 s per step, <= 1.2 GiB peak RSS.

The measured path is the real one: ``SharedEvaluator.train_epoch`` with the ENAS LSTM controller
sampling one architecture per minibatch (as the search loop does) and the real ``BatchLoader``
with augmentation. A step is the time between two ``on_step`` callbacks (batch assembly, controller
sample, forward, backward, clip, SGD). After each measured pass the rest of a search epoch runs and
is timed too: the loop's 30 controller steps (sample, reward on a validation minibatch, update).
The reference is a ResNet-20 trained with the same recipe
and the same loader, in blocks interleaved with the search epochs; the step-time ratio is the
machine-independent figure. Peak RSS (the whole process: interpreter, torch, data) is read after
the search epochs; the process's peak after the first ResNet block, before any search step, is
reported too.
"""

from __future__ import annotations

import argparse
import logging
import time
from typing import Any

import torch

from bench._common import format_table, write_result
from bench._timing import (
    CIFAR_TRAIN,
    current_rss_bytes,
    gib,
    load_average,
    median,
    peak_rss_bytes,
    sgd,
    sgd_step,
    wait_for_low_load,
)
from searchcore.config import SearchConfig
from searchcore.controllers import create_controller
from searchcore.data import BatchLoader, load_image_dataset
from searchcore.evaluators import EvaluatorContext, create_evaluator
from searchcore.spaces import create_space
from searchcore.spaces.ops import MICRO_OPS
from searchcore.spaces.resnet import ResNet20

logger = logging.getLogger(__name__)

SPACE_OPTIONS: dict[str, Any] = {"channels": 16, "cells_per_stage": 2, "num_nodes": 5, "ops": MICRO_OPS}
SPLIT = (0.8, 0.2, 0.0)
BATCH = 64
CONTROLLER_STEPS = SearchConfig.__dataclass_fields__["controller_steps_per_epoch"].default
PEER = {"step_s": 1.19, "epoch_s": 36.0, "peak_rss_gib": 2.4}
TARGET = {"step_s": 0.4, "peak_rss_gib": 1.2}


class SearchTimer:
    """The shared evaluator and the controller, with per-step wall times from ``on_step``."""

    def __init__(self, data: Any, seed: int = 0) -> None:
        self.space = create_space("enas-micro", **SPACE_OPTIONS)
        self.stop_after: int | None = None
        self.steps_done = 0
        self.marks: list[float] = []
        context = EvaluatorContext(space=self.space, device=torch.device("cpu"), seed=seed, data=data,
                                   should_stop=self._should_stop, on_step=self._on_step)
        self.evaluator = create_evaluator("shared", context=context, batch_size=BATCH)
        self.controller = create_controller("reinforce", decisions=self.space.decisions(),
                                            initial_nodes=self.space.initial_nodes, seed=seed)

    def _should_stop(self) -> bool:
        return self.stop_after is not None and self.steps_done >= self.stop_after

    def _on_step(self, done: int, total: int) -> None:
        self.steps_done = done
        self.marks.append(time.perf_counter())

    def sample_arch(self) -> Any:  # what the search loop passes to train_epoch
        with torch.no_grad():
            values = self.controller.sample(1)[0]
        return self.space.from_decisions(values)

    def epoch(self, stop_after: int | None = None) -> tuple[list[float], float, int]:
        """(step times, epoch wall time, steps) of one ``train_epoch``."""
        self.stop_after, self.steps_done = stop_after, 0
        start = time.perf_counter()
        self.marks = [start]
        stats = self.evaluator.train_epoch(self.sample_arch)
        elapsed = time.perf_counter() - start
        steps = [b - a for a, b in zip(self.marks, self.marks[1:], strict=False)]
        return steps, elapsed, stats.steps

    def controller_phase(self, steps: int = CONTROLLER_STEPS) -> float:
        """The rest of a search epoch (as ``SearchLoop.train_controller``): ``steps`` times sample,
        reward on the next validation minibatch, REINFORCE update. Returns the wall time."""
        start = time.perf_counter()
        for _ in range(steps):
            arch = self.space.from_decisions(self.controller.sample(1)[0])
            self.controller.update([float(self.evaluator.reward(arch))])
        return time.perf_counter() - start


class ResNetTimer:
    """ResNet-20 steps over the same loader (augmentation, channels_last), same SGD recipe."""

    def __init__(self, data: Any, seed: int = 0) -> None:
        torch.manual_seed(seed)
        self.model = ResNet20(data.channels, len(data.class_names)).to(memory_format=torch.channels_last)
        self.model.train()
        self.optimizer = sgd(self.model)
        self.loader = BatchLoader(data.train, BATCH, mean=data.mean, std=data.std, shuffle=True, augment=True,
                                  generator=torch.Generator().manual_seed(seed), channels_last=True)

    def block(self, steps: int) -> list[float]:
        times: list[float] = []
        while len(times) < steps:
            last = time.perf_counter()
            for x, y in self.loader:
                sgd_step(self.model, self.optimizer, x, y)
                now = time.perf_counter()
                times.append(now - last)
                last = now
                if len(times) >= steps:
                    break
        return times


def run(epochs: int, threads: int, resnet_steps: int, warmup: int, seed: int) -> dict[str, Any]:
    torch.set_num_threads(threads)
    data = load_image_dataset(CIFAR_TRAIN, split=SPLIT, seed=seed)
    search, resnet = SearchTimer(data, seed), ResNetTimer(data, seed)
    rss_setup = current_rss_bytes()  # interpreter, torch, data, both models
    resnet.block(warmup)
    resnet_times = resnet.block(resnet_steps)
    peak_resnet = peak_rss_bytes()
    search.epoch(stop_after=warmup)  # warm-up: allocator, first-touch, thread pool
    step_times, epoch_times, controller_times = [], [], []
    for _ in range(epochs):
        steps, elapsed, count = search.epoch()
        step_times += steps
        epoch_times.append(elapsed)
        controller_times.append(search.controller_phase())
        logger.info("search epoch: %d steps in %.2fs (median step %.3fs)", count, elapsed, median(steps))
    peak = peak_rss_bytes()
    rss_after = current_rss_bytes()
    resnet_times += resnet.block(resnet_steps)
    step = median(step_times)
    ref = median(resnet_times)
    return {
        "steps_per_epoch": len(search.evaluator.train_loader),
        "train_images": len(data.train.labels), "valid_images": len(data.valid.labels),
        "search_step_s_median": step, "search_step_s_all": step_times,
        "search_epoch_s": epoch_times, "controller_phase_s": controller_times,
        "controller_steps_per_epoch": CONTROLLER_STEPS,
        "full_epoch_s": [a + b for a, b in zip(epoch_times, controller_times, strict=True)],
        "resnet20_step_s_median": ref, "resnet20_step_s_all": resnet_times,
        "ratio_search_to_resnet20": step / ref,
        "peak_rss_bytes": peak, "peak_rss_gib": gib(peak),
        "rss_after_setup_gib": gib(rss_setup), "peak_rss_resnet20_gib": gib(peak_resnet),
        "rss_after_search_gib": gib(rss_after),
        "supernet_params": sum(p.numel() for p in search.evaluator.net.parameters()),
        "resnet20_params": sum(p.numel() for p in resnet.model.parameters()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2, help="measured search epochs (25 steps each)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--resnet-steps", type=int, default=12, help="ResNet-20 steps per block (2 blocks)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-wait", type=float, default=600.0, help="seconds to wait for load < 1.5")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    load_start = wait_for_low_load(max_wait_s=args.max_wait)
    result = run(args.epochs, args.threads, args.resnet_steps, args.warmup, args.seed)
    load_end = load_average()
    step, peak = result["search_step_s_median"], result["peak_rss_gib"]
    rows = [
        ["search step (median, s)", step, PEER["step_s"], f"<= {TARGET['step_s']}", step <= TARGET["step_s"]],
        ["weight-training pass (s, 25 steps)", median(result["search_epoch_s"]), PEER["epoch_s"], "", ""],
        [f"+ {CONTROLLER_STEPS} controller steps (s)", median(result["controller_phase_s"]), "", "", ""],
        ["peak RSS (GiB)", peak, PEER["peak_rss_gib"], f"<= {TARGET['peak_rss_gib']}",
         peak <= TARGET["peak_rss_gib"]],
        ["ResNet-20 step (median, s)", result["resnet20_step_s_median"], 0.14, "", ""],
        ["search step / ResNet-20 step", result["ratio_search_to_resnet20"], PEER["step_s"] / 0.14, "", ""],
    ]
    print(format_table(["figure", "ours", "peer (NNI 3.0)", "target", "met"], rows))
    print(f"threads={args.threads} load average start={load_start} end={load_end}; "
          f"{result['train_images']} train / {result['valid_images']} valid images, "
          f"{result['steps_per_epoch']} steps per epoch")
    payload = {"config": {"space": "enas-micro", "space_options": {**SPACE_OPTIONS, "ops": list(MICRO_OPS)},
                          "batch_size": BATCH, "threads": args.threads, "split": list(SPLIT),
                          "data": str(CIFAR_TRAIN), "epochs": args.epochs, "warmup_steps": args.warmup,
                          "controller": "reinforce", "augment": True, "channels_last": True},
               "peer": PEER, "target": TARGET, "load_average_start": load_start, "load_average_end": load_end,
               "targets_met": {"step": step <= TARGET["step_s"], "peak_rss": peak <= TARGET["peak_rss_gib"]},
               **result}
    write_result("speed", payload)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
