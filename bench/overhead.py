"""What the NAS machinery costs: one shared-weight training step vs the same architecture built as a
standalone child, same batch, same process, CPU.

Run: ``.venv/bin/python -m bench.overhead [--archs 5] [--reps 10] [--threads 2] [--space enas-micro]``.
Space: ENAS micro at the speed bench's configuration (16 channels, 8 cells, 5 nodes, all 5 ops), or
any space with a supernet at the same sizes (``--space nasnet``: its 13 ops and both combines);
``--space enas-rnn`` (a language space) times its recurrent supernet on a WikiText-2 window at its
default sizes instead (``bench._overhead_language``: 12 nodes, hidden 200, batch 64 x 35 tokens);
``--space enas-micro,nasnet`` measures each in turn in one process and prints their step times side
by side. One real batch of 64 x 3 x 32 x 32 from the CIFAR-10 subset (augmented, channels_last).
Architectures are sampled by the seeded ENAS controller. For each one the child is built with
``build_child`` and loaded from the supernet (``load_from_supernet``), so both compute the same
function.

- Time: the shared step is ``SharedEvaluator._train_step`` (the evaluator's real step: LR
  schedule, supernet forward along ``arch``, CE, backward, clip over all supernet weights, SGD);
  the child step is the same recipe on the child. Repetitions are interleaved (arch by arch,
  alternating which goes first); each shared step is divided by the child step timed next to it
  (so a change in machine load cancels), and reported is the median over architectures of the
  per-arch median of these ratios. Target <= 1.10.
- Controller: one ``sample(1)`` + ``from_decisions`` + ``update([r])`` of the ENAS LSTM controller,
  timed right after each pair, divided by that pair's shared step; median. Target <= 5 %.
- Memory: one subprocess per (architecture, shared|child) runs ``--mem-steps`` steps and reports
  its peak RSS (``VmHWM``; the whole process: interpreter, torch, data, model). Target: the
  median ratio shared / child <= 1.2. The growth over the RSS before the first step (activations,
  gradients, optimiser state) is reported too.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import time
from typing import Any

import torch

from bench import _overhead_language as lm
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
    timed,
    wait_for_low_load,
)
from bench.speed import BATCH, SPACE_OPTIONS, SPLIT
from searchcore.controllers import create_controller
from searchcore.data import BatchLoader, load_image_dataset
from searchcore.evaluators import EvaluatorContext, create_evaluator
from searchcore.spaces import create_space, space_class
from searchcore.spaces.base import LANGUAGE

logger = logging.getLogger(__name__)

TARGET = {"step_ratio": 1.10, "controller_share": 0.05, "memory_ratio": 1.2}


def is_language(name: str) -> bool:
    return space_class(name).task_kind == LANGUAGE


def space_options(name: str) -> dict[str, Any]:
    """The speed bench's sizes; its op list only for enas-micro (another space keeps its own ops);
    a language space's own defaults (the image sizes do not apply)."""
    if is_language(name):
        return {}
    options = dict(SPACE_OPTIONS) if name == "enas-micro" else {
        k: v for k, v in SPACE_OPTIONS.items() if k != "ops"}
    return {k: list(v) if isinstance(v, tuple) else v for k, v in options.items()}


def _setup(name: str, seed: int, shared: bool = True) -> tuple[Any, Any, Any, torch.Tensor, torch.Tensor]:
    """(space, data, shared evaluator or None, x, y): one real augmented batch of 64 (a text window)."""
    if is_language(name):
        return lm.setup(name, seed, shared=shared)
    data = load_image_dataset(CIFAR_TRAIN, split=SPLIT, seed=seed)
    space = create_space(name, **space_options(name))
    context = EvaluatorContext(space=space, device=torch.device("cpu"), seed=seed, data=data)
    evaluator = create_evaluator("shared", context=context, batch_size=BATCH) if shared else None
    loader = BatchLoader(data.train, BATCH, mean=data.mean, std=data.std, shuffle=True, augment=True,
                         generator=torch.Generator().manual_seed(seed), channels_last=True)
    x, y = next(iter(loader))
    return space, data, evaluator, x, y


def _child(space: Any, data: Any, arch: Any, supernet: torch.nn.Module | None) -> tuple[Any, Any]:
    if space.task_kind == LANGUAGE:
        return lm.child(space, data, arch, supernet)
    child = space.build_child(arch, data.task())
    if supernet is not None:
        child.load_from_supernet(supernet)
    child = child.to(memory_format=torch.channels_last)
    child.train()
    return child, sgd(child)


def time_steps(name: str, archs: int, reps: int, warmup: int, seed: int) -> dict[str, Any]:
    space, data, evaluator, x, y = _setup(name, seed)
    controller = create_controller("reinforce", decisions=space.decisions(),
                                   initial_nodes=space.initial_nodes, seed=seed)
    with torch.no_grad():
        arch_list = [space.from_decisions(v) for v in controller.sample(archs)]
    children = [_child(space, data, a, evaluator.net) for a in arch_list]
    shared_step, child_step = _steps(space)

    def shared(i: int) -> float:
        return timed(lambda: shared_step(evaluator, x, y, arch_list[i]))

    def child(i: int) -> float:
        model, opt = children[i]
        return timed(lambda: child_step(model, opt, x, y))

    for i in range(archs):
        for _ in range(warmup):
            shared(i)
            child(i)
    sample, step = _controller_calls(space, controller)
    kinds = ("shared", "child", "ctrl", "ctrl_sample")
    times: dict[str, list[list[float]]] = {k: [[] for _ in arch_list] for k in kinds}
    for rep in range(reps):
        for i in range(archs):
            first, second = ("shared", "child") if (rep + i) % 2 == 0 else ("child", "shared")
            for kind in (first, second):
                times[kind][i].append(shared(i) if kind == "shared" else child(i))
            times["ctrl"][i].append(timed(lambda r=0.1 * (rep % 10): step(r)))
            times["ctrl_sample"][i].append(timed(sample))
    divisor = {"shared": "child", "ctrl": "shared", "ctrl_sample": "shared"}
    pairs = {k: [[a / b for a, b in zip(times[k][i], times[d][i], strict=True)] for i in range(archs)]
             for k, d in divisor.items()}
    per_arch = [median(r) for r in pairs["shared"]]
    flat = {k: [t for row in v for t in row] for k, v in times.items()}
    return {"archs": [space.arch_to_json(a) for a in arch_list], "shared_step_s": times["shared"],
            "child_step_s": times["child"], "controller_step_s": times["ctrl"],
            "per_arch_ratio": per_arch, "ratio_median": median(per_arch),
            "ratio_pooled_median": median([r for row in pairs["shared"] for r in row]),
            "ratio_of_medians": median(flat["shared"]) / median(flat["child"]),
            "shared_step_s_median": median(flat["shared"]), "child_step_s_median": median(flat["child"]),
            "controller_sample_update_s_median": median(flat["ctrl"]),
            "controller_sample_s_median": median(flat["ctrl_sample"]),
            "controller_share": median([r for row in pairs["ctrl"] for r in row]),
            "controller_sample_share": median([r for row in pairs["ctrl_sample"] for r in row])}


def _steps(space: Any) -> tuple[Any, Any]:
    """(shared step, child step) of the space's task kind."""
    if space.task_kind == LANGUAGE:
        return lm.shared_step, lm.child_step
    return (lambda ev, x, y, arch: ev._train_step(x, y, arch)), sgd_step


def _controller_calls(space: Any, controller: Any) -> tuple[Any, Any]:
    """A training step's sample (no grad, as the loop does) and a controller step (the rollout
    recorded with grad, then one REINFORCE update on one reward; the reward's forward pass is the
    evaluator's, not the controller's)."""
    def sample() -> None:
        with torch.no_grad():
            space.from_decisions(controller.sample(1)[0])

    def step(reward: float) -> None:
        space.from_decisions(controller.sample(1)[0])
        controller.update([reward])

    return sample, step


def measure_memory(mode: str, arch_json: dict[str, Any], steps: int, threads: int,
                   seed: int) -> dict[str, Any]:
    """In a fresh process: peak RSS of ``steps`` training steps of one configuration."""
    torch.set_num_threads(threads)
    space, data, evaluator, x, y = _setup(arch_json["space"], seed, shared=mode == "shared")
    arch = space.arch_from_json(arch_json)
    shared_step, child_step = _steps(space)
    if mode == "shared":
        params = sum(p.numel() for p in evaluator.net.parameters())
        before = current_rss_bytes()
        for _ in range(steps):
            shared_step(evaluator, x, y, arch)
    else:
        model, opt = _child(space, data, arch, None)
        params = sum(p.numel() for p in model.parameters())
        before = current_rss_bytes()
        for _ in range(steps):
            child_step(model, opt, x, y)
    peak = peak_rss_bytes()
    return {"mode": mode, "params": params, "rss_before_bytes": before, "peak_rss_bytes": peak,
            "growth_bytes": peak - before}


def memory(arch_jsons: list[dict[str, Any]], steps: int, threads: int, seed: int) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for i, arch in enumerate(arch_jsons):
        pair = {}
        for mode in (("shared", "child") if i % 2 == 0 else ("child", "shared")):
            cmd = [sys.executable, "-m", "bench.overhead", "--measure-memory", mode,
                   "--arch", json.dumps(arch), "--mem-steps", str(steps), "--threads", str(threads),
                   "--seed", str(seed)]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True)
            pair[mode] = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append({"shared": pair["shared"], "child": pair["child"],
                     "peak_ratio": pair["shared"]["peak_rss_bytes"] / pair["child"]["peak_rss_bytes"],
                     "growth_ratio": pair["shared"]["growth_bytes"] / max(pair["child"]["growth_bytes"], 1)})
    return {"memory": rows, "memory_peak_ratio_median": median([r["peak_ratio"] for r in rows]),
            "memory_growth_ratio_median": median([r["growth_ratio"] for r in rows])}


def _report(name: str, result: dict[str, Any]) -> dict[str, bool]:
    """Print one space's tables; the targets met (memory's only when it was measured)."""
    ratio, share = result["ratio_median"], result["controller_share"]
    mem_rows = result.get("memory") or [None] * len(result["per_arch_ratio"])
    rows = [[i, f"{r:.3f}", f"{median(s):.3f}", f"{median(c):.3f}",
             *([f"{m['peak_ratio']:.3f}", f"{gib(m['shared']['peak_rss_bytes']):.3f}",
                f"{gib(m['child']['peak_rss_bytes']):.3f}"] if m else ["", "", ""])]
            for i, (r, s, c, m) in enumerate(zip(result["per_arch_ratio"], result["shared_step_s"],
                                                 result["child_step_s"], mem_rows, strict=True))]
    print(f"== {name}")
    print(format_table(["arch", "step ratio", "shared s", "child s", "peak ratio", "shared GiB", "child GiB"],
                       rows))
    met = {"step_ratio": ratio <= TARGET["step_ratio"],
           "controller_share": share <= TARGET["controller_share"]}
    summary = [
        ["step time shared / child (median)", ratio, f"<= {TARGET['step_ratio']}", met["step_ratio"]],
        ["controller sample+update / step", share, f"<= {TARGET['controller_share']}",
         met["controller_share"]],
        ["controller sample only / step", result["controller_sample_share"], "", ""],
    ]
    if "memory_peak_ratio_median" in result:
        mem = result["memory_peak_ratio_median"]
        met["memory_ratio"] = mem <= TARGET["memory_ratio"]
        summary += [["peak RSS shared / child (median)", mem, f"<= {TARGET['memory_ratio']}",
                     met["memory_ratio"]],
                    ["RSS growth shared / child (median)", result["memory_growth_ratio_median"], "", ""]]
    print(format_table(["figure", "value", "target", "met"], summary))
    return met


def _side_by_side(results: dict[str, dict[str, Any]]) -> list[list[Any]]:
    """Median step times of each space, and their ratio to the first space's (same process, in turn)."""
    first = next(iter(results.values()))
    rows = [[name, f"{r['shared_step_s_median']:.3f}", f"{r['child_step_s_median']:.3f}",
             f"{r['child_step_s_median'] / first['child_step_s_median']:.2f}", f"{r['ratio_median']:.3f}"]
            for name, r in results.items()]
    print(format_table(["space", "shared step s", "child step s", "child / first", "shared / child"], rows))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", default="enas-micro",
                        help="a space with a supernet, or a comma-separated list measured in turn")
    parser.add_argument("--archs", type=int, default=5)
    parser.add_argument("--reps", type=int, default=10, help="interleaved timed steps per arch and kind")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--mem-steps", type=int, default=3)
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-RSS subprocesses")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-wait", type=float, default=600.0, help="seconds to wait for load < 1.5")
    parser.add_argument("--measure-memory", choices=("shared", "child"), help=argparse.SUPPRESS)
    parser.add_argument("--arch", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure_memory:
        print(json.dumps(measure_memory(args.measure_memory, json.loads(args.arch), args.mem_steps,
                                        args.threads, args.seed)))
        return 0
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.set_num_threads(args.threads)
    names = [n.strip() for n in args.space.split(",") if n.strip()]
    load_start = wait_for_low_load(max_wait_s=args.max_wait)
    started = time.perf_counter()
    results: dict[str, dict[str, Any]] = {}
    met: dict[str, dict[str, bool]] = {}
    for name in names:
        results[name] = time_steps(name, args.archs, args.reps, args.warmup, args.seed)
        if not args.no_memory:
            results[name].update(memory(results[name]["archs"], args.mem_steps, args.threads, args.seed))
        met[name] = _report(name, results[name])
    side = _side_by_side(results) if len(names) > 1 else None
    load_end = load_average()
    print(f"threads={args.threads} load average start={load_start} end={load_end} "
          f"({time.perf_counter() - started:.0f}s)")
    config = {"batch_size": BATCH, "threads": args.threads, "archs": args.archs, "reps": args.reps,
              "warmup": args.warmup, "mem_steps": 0 if args.no_memory else args.mem_steps, "seed": args.seed}
    common = {"target": TARGET, "load_average_start": load_start, "load_average_end": load_end}
    if names == ["enas-micro"]:  # the committed result's layout, unchanged
        enas = {"space": "enas-micro", "space_options": space_options("enas-micro"), **config}
        write_result("overhead", {"config": enas, **common, "targets_met": met["enas-micro"],
                                  **results["enas-micro"]})
    else:
        write_result("overhead_" + "_".join(n.replace("-", "_") for n in names), {
            "config": {"spaces": {n: space_options(n) for n in names}, **config}, **common,
            "targets_met": met, "side_by_side": side, "results": results})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
