"""A search that earns its cost (issue 7): NAS with the product defaults against its controls.

On ``cifar10_subset_train.zip`` (tested on all of ``cifar10_subset_test.zip``), at each total
budget (minutes of this machine, search + final training), for each seed, three contenders run
one after the other, their order rotated per seed so load hits them alike:

- ``nas``: the REINFORCE controller, every default (budget planner, interleaved controller steps,
  derive without collapse, final training ``init=auto``); search and final training get
  ``--search-share`` and the rest of the total budget;
- ``random``: the same with the random controller (the control of Li & Talwalkar 2019);
- ``resnet20``: a hand-designed ResNet-20 trained for the whole budget (same split, loader, recipe);
- only when asked for in ``--contenders``: ``nas-scratch`` (``nas`` with final training from
  scratch instead of from the supernet's weights, the measurement behind ``inherit.DEFAULT_INIT``),
  ``nasnet`` / ``nasnet-ppo`` (the NASNet space, shared weights, REINFORCE / PPO) and ``nas-rl-cnn``
  (NAS-RL: the layer-stack space, each child trained from scratch by the ``scratch`` evaluator).

The goals (issue 7): NAS >= ResNet-20 and >= random at 10 and 20 minutes; at 3 minutes no model at
chance or degenerate, and >= 90 % of ResNet-20's accuracy. The table gives each contender's test
accuracy, parameters, epochs and the load average before it ran; the JSON (bench/results/quality.json)
keeps every run, the plans and the verdicts.

Run: ``.venv/bin/python -m bench.quality [--budgets 3,10,20] [--seeds 3] [--threads 2]``.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import shutil
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from bench._common import format_table, write_result
from bench._timing import CIFAR_TEST, CIFAR_TRAIN, load_average
from bench.cifar_subset import _params_of, resnet_phase
from searchcore.config import SearchConfig
from searchcore.events import read_events
from searchcore.search.loop import run_search
from searchcore.training.final import FinalConfig, train_final

logger = logging.getLogger(__name__)

DEFAULT_OUT = Path("/tmp/bench_quality")
CONTENDERS = ("nas", "random", "resnet20")
# Asked for by name in ``--contenders``: nas-scratch measures the init default; the others are the
# other papers' methods with the product defaults (issue 8).
OPTIONAL = ("nas-scratch", "nasnet", "nasnet-ppo", "nas-rl-cnn")


@dataclass(frozen=True)
class Method:
    """One searched contender: space, controller, evaluator and the final child's first weights."""

    space: str = "enas-micro"
    controller: str = "reinforce"
    evaluator: str = "shared"
    init: str = "auto"


METHODS = {
    "nas": Method(),
    "random": Method(controller="random"),
    "nas-scratch": Method(init="scratch"),
    "nasnet": Method(space="nasnet"),
    "nasnet-ppo": Method(space="nasnet", controller="ppo"),
    "nas-rl-cnn": Method(space="nas-rl-cnn", evaluator="scratch", init="scratch"),
}


def nas_run(out: Path, method: Method, total_minutes: float, search_share: float,
            seed: int) -> dict[str, Any]:
    """Search then final training with the product defaults for ``method``."""
    started = time.monotonic()
    search_seconds = total_minutes * 60 * search_share
    config = SearchConfig(space=method.space, data=str(CIFAR_TRAIN), controller=method.controller,
                          evaluator=method.evaluator, budget_seconds=search_seconds, seed=seed, device="cpu")
    result = run_search(config, out / "search").to_dict()
    plans = [e.payload for e in read_events(out / "search" / "events.jsonl") if e.type == "plan"]
    final_minutes = max(total_minutes * 60 - (time.monotonic() - started), 30.0) / 60
    final = final_run(out, result, final_minutes, seed, method.init)
    derived = [e.payload for e in read_events(out / "search" / "events.jsonl")
               if e.type == "best" and e.payload.get("derived")]
    metrics_plans = [e.payload for e in read_events(out / "final" / "events.jsonl") if e.type == "plan"]
    return {**final, "elapsed_seconds": round(time.monotonic() - started, 1),
            "search_epochs": result["epochs"], "controller_samples": result["archs_evaluated"],
            "derived_reward": (result["best"] or {}).get("reward"),
            "degenerate": derived[-1].get("degenerate") if derived else None,
            "plans": plans + metrics_plans}


def final_run(out: Path, result: dict[str, Any], minutes: float, seed: int, init: str) -> dict[str, Any]:
    """``train_final`` as the worker calls it (the search folder as the supernet), on the test zip."""
    config = FinalConfig(arch=result, data=str(CIFAR_TRAIN), test_data=str(CIFAR_TEST),
                         budget_seconds=minutes * 60, seed=seed, device="cpu", supernet=str(out / "search"),
                         init=init)
    final = train_final(config, out / "final")
    metrics = final.metrics or {}
    saved = json.loads((out / "final" / "train_config.json").read_text())
    return {"status": final.status, "test_accuracy": final.test_accuracy, "epochs_run": final.epochs_run,
            "best_valid_accuracy": final.best_valid_accuracy, "init": saved["init"],
            "child_overrides": saved["child_overrides"], "batch_size": saved["batch_size"],
            "verdict": metrics.get("verdict"), "params": _params_of(out / "final" / "model.pt")}


def run_contender(name: str, out: Path, minutes: float, share: float, seed: int) -> dict[str, Any]:
    load = load_average()
    if name == "resnet20":
        row = resnet_phase(minutes, seed)
    else:
        row = nas_run(out / f"{name}-{minutes:g}-{seed}", METHODS[name], minutes, share, seed)
    return {"contender": name, "minutes": minutes, "seed": seed, "load_average_before": load, **row}


def summarise(runs: list[dict[str, Any]], budgets: list[float]) -> list[list[Any]]:
    rows = []
    for minutes in budgets:
        for name in CONTENDERS + OPTIONAL:
            mine = [r for r in runs if r["minutes"] == minutes and r["contender"] == name]
            if not mine:
                continue
            accs = [r["test_accuracy"] for r in mine]
            rows.append([f"{minutes:g}", name, len(mine), round(statistics.mean(accs), 4),
                         round(min(accs), 4), round(max(accs), 4),
                         round(statistics.mean(r["params"] for r in mine)),
                         round(statistics.mean(r["epochs_run"] for r in mine), 1),
                         round(statistics.mean(r["load_average_before"][0] for r in mine), 2)])
    return rows


def verdicts(runs: list[dict[str, Any]], budgets: list[float]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for minutes in budgets:
        mean = {}
        for name in CONTENDERS + OPTIONAL:
            accs = [r["test_accuracy"] for r in runs if r["minutes"] == minutes and r["contender"] == name]
            mean[name] = statistics.mean(accs) if accs else float("nan")
        entry = {"nas_ge_resnet20": mean["nas"] >= mean["resnet20"],
                 "nas_ge_random": mean["nas"] >= mean["random"],
                 "nas_over_resnet20": mean["nas"] / mean["resnet20"] if mean["resnet20"] else None,
                 "init_supernet_ge_scratch": (None if math.isnan(mean["nas-scratch"])
                                              else mean["nas"] >= mean["nas-scratch"]),
                 "mean": mean}
        out[f"{minutes:g}"] = entry
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", default="3,10,20", help="total minutes per run, comma-separated")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--search-share", type=float, default=0.5, help="of the total budget for the search")
    parser.add_argument("--contenders", default=",".join(CONTENDERS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="work directory (emptied first)")
    parser.add_argument("--name", default="quality", help="result file name under bench/results")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    torch.set_num_threads(args.threads)
    budgets = [float(b) for b in args.budgets.split(",")]
    contenders = [c for c in args.contenders.split(",") if c]
    unknown = sorted(set(contenders) - set(CONTENDERS + OPTIONAL))
    if unknown:
        parser.error(f"unknown contender(s) {', '.join(unknown)}; known: {', '.join(CONTENDERS + OPTIONAL)}")
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    runs = []
    for minutes in budgets:
        for seed in range(args.seeds):
            order = contenders[seed % len(contenders):] + contenders[:seed % len(contenders)]
            for name in order:
                runs.append(run_contender(name, args.out, minutes, args.search_share, seed))
                logger.info("%s %g min seed %d: test accuracy %.4f", name, minutes, seed,
                            runs[-1]["test_accuracy"])
    print(format_table(["minutes", "contender", "runs", "mean acc", "min", "max", "params", "epochs",
                        "load before"], summarise(runs, budgets)))
    result = verdicts(runs, budgets)
    for minutes, entry in result.items():
        print(f"{minutes} min: NAS >= ResNet-20: {entry['nas_ge_resnet20']}, NAS >= random: "
              f"{entry['nas_ge_random']}, NAS / ResNet-20 = {entry['nas_over_resnet20']}")
    write_result(args.name, {"config": {"budgets_minutes": budgets, "seeds": args.seeds,
                                        "search_share": args.search_share, "threads": args.threads,
                                        "train_data": str(CIFAR_TRAIN), "test_data": str(CIFAR_TEST)},
                             "runs": runs, "verdicts": result})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
