"""PPO vs REINFORCE vs random search on the NAS-Bench-201 table (CIFAR-10 test accuracy, 200 epochs).

Run: ``.venv/bin/python -m bench.nb201 [--table PATH] [--seeds 20] [--methods random,ppo]``. Each
method and seed is one run of the shipped search loop (``run_search`` with the ``benchmark``
evaluator and the settings a user gets by default: the evaluator's suggested controller options and
architectures per step) with ``max_archs = max(budgets)`` DISTINCT architectures; a re-sampled
architecture does not count toward the budget (the controller still gets its reward and updates on
it). Read from its ``arch_sampled`` events: the best table accuracy found within the first 100 / 200
/ 500 distinct architectures. Methods: ``random``; ``reinforce`` and ``ppo`` (the evaluator's
suggested options, plus ``--set``/``--set-ppo``); ``reinforce-enas`` (REINFORCE with the ENAS
defaults, for reference) and ``ppo-learned`` (``ppo`` with the learned value baseline). Reported:
mean and std over seeds, one-sided Welch t-tests (each controller > random) and a two-sided one of
PPO against REINFORCE.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from scipy import stats

from bench._common import format_table, write_result
from searchcore.config import SearchConfig
from searchcore.controllers.lstm import ReinforceOptions
from searchcore.evaluators.benchmark import BenchmarkEvaluator
from searchcore.events import Event, ListSink
from searchcore.search import run_search

logger = logging.getLogger(__name__)

DEFAULT_TABLE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "nb201_cifar10.csv"
BUDGETS = (100, 200, 500)
MAX_SAMPLES_FACTOR = 40  # give up after about 40 * max(budgets) samples (a collapsed policy)
METHODS = ("random", "reinforce", "reinforce-enas", "ppo", "ppo-learned")
# summary key: (method a, method b, alternative of the Welch test of a against b)
TESTS = {"p_value_reinforce_gt_random": ("reinforce", "random", "greater"),
         "p_value_ppo_gt_random": ("ppo", "random", "greater"),
         "p_value_ppo-learned_gt_random": ("ppo-learned", "random", "greater"),
         "p_value_ppo_vs_reinforce": ("ppo", "reinforce", "two-sided")}
TEST_TITLES = {"p_value_reinforce_gt_random": "p reinforce>random", "p_value_ppo_gt_random": "p ppo>random",
               "p_value_ppo-learned_gt_random": "p ppo-learned>random",
               "p_value_ppo_vs_reinforce": "p ppo≠reinforce"}


def run_one(method: str, seed: int, table: Path, options: dict[str, Any] | None = None,
            batch: int | None = None, budgets: tuple[int, ...] = BUDGETS) -> dict[str, Any]:
    """Best accuracy found within each budget of distinct architectures, for one seed.

    ``options``/``batch``: controller options and architectures per step beyond the shipped
    defaults (``None``: what a user of ``run_search`` gets)."""
    config = bench_config(method, seed, table, options, batch, max(budgets))
    sink = ListSink()
    with tempfile.TemporaryDirectory(prefix="nb201-bench-") as out:
        run_search(config, out, sink=sink)
    return best_within(sink.events, budgets)


def bench_config(method: str, seed: int, table: Path, options: dict[str, Any] | None, batch: int | None,
                 max_archs: int) -> SearchConfig:
    steps = SearchConfig.controller_steps_per_epoch
    per_step = batch or BenchmarkEvaluator.suggested_samples_per_update
    cap = math.ceil(MAX_SAMPLES_FACTOR * max_archs / (steps * per_step))  # epochs: only a collapsed policy
    return SearchConfig(space="nb201", data=str(table), evaluator="benchmark", controller=method,
                        controller_options=dict(options or {}), archs_per_step=batch, max_archs=max_archs,
                        max_epochs=cap, seed=seed, device="cpu")


def best_within(events: list[Event], budgets: tuple[int, ...]) -> dict[str, Any]:
    """From a search's events: the best reward among its first ``b`` distinct architectures."""
    seen: set[str] = set()
    best, found, samples = -math.inf, {}, 0
    for event in events:
        if event.type != "arch_sampled":
            continue
        samples += 1
        arch = event.payload["architecture"]["arch_str"]
        if arch in seen:
            continue
        seen.add(arch)
        best = max(best, event.payload["reward"])
        if len(seen) in budgets:
            found[len(seen)] = best
    for b in budgets:  # only reached if the policy collapsed before the budget
        found.setdefault(b, best)
    return {"best": [found[b] for b in budgets], "samples": samples, "distinct": len(seen)}


def summarise(results: dict[str, list[dict[str, Any]]], budgets: tuple[int, ...]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for method, runs in results.items():
        per_budget = list(zip(*(r["best"] for r in runs), strict=True))
        summary[method] = {
            str(b): {"mean": statistics.fmean(v), "std": statistics.stdev(v) if len(v) > 1 else 0.0,
                     "values": list(v)}
            for b, v in zip(budgets, per_budget, strict=True)
        }
        summary[method]["mean_samples"] = statistics.fmean(r["samples"] for r in runs)
    for key, (a, b, alternative) in TESTS.items():
        if {a, b} <= set(results):
            summary[key] = {str(n): welch(summary[a][str(n)]["values"], summary[b][str(n)]["values"],
                                          alternative) for n in budgets}
    return summary


def welch(a: list[float], b: list[float], alternative: str) -> float:
    """Welch's t-test p-value (``greater``: mean(a) > mean(b)); NaN when both samples are constant."""
    return float(stats.ttest_ind(a, b, equal_var=False, alternative=alternative).pvalue)


def method_options(overrides: dict[str, dict[str, Any]]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Each method: (controller, options beyond the evaluator's suggestion). ``reinforce-enas`` puts
    back the controller's ENAS defaults for every suggested option but ``reward_scale``."""
    suggested = BenchmarkEvaluator.suggested_controller_options["reinforce"]
    enas = {k: getattr(ReinforceOptions(), k) for k in suggested if k != "reward_scale"}
    return {"random": ("random", {}), "reinforce": ("reinforce", overrides["reinforce"]),
            "reinforce-enas": ("reinforce", enas), "ppo": ("ppo", overrides["ppo"]),
            "ppo-learned": ("ppo", {"baseline": "learned", **overrides["ppo"]})}


def _overrides(items: list[str]) -> dict[str, Any]:
    parsed = {}
    for item in items:
        key, _, value = item.partition("=")
        parsed[key] = json.loads(value)
    return parsed


def _print(summary: dict[str, Any], methods: list[str]) -> None:
    tests = [key for key in TESTS if key in summary]
    rows = []
    for b in BUDGETS:
        cells = [f"{summary[m][str(b)]['mean']:.3f} ± {summary[m][str(b)]['std']:.3f}" for m in methods]
        rows.append([b, *cells, *(f"{summary[t][str(b)]:.2g}" for t in tests)])
    print(format_table(["distinct archs", *methods, *(TEST_TITLES[t] for t in tests)], rows))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", type=Path, default=DEFAULT_TABLE)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=0,
                        help="seeds first..first+seeds-1 (reinforce was tuned on seeds 0-19, ppo on 100-139)")
    parser.add_argument("--batch", type=int, default=None,
                        help="architectures per controller step (default: the evaluator's suggestion)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                        help="override a reinforce option (default: the evaluator's suggested options)")
    parser.add_argument("--set-ppo", action="append", default=[], metavar="KEY=JSON",
                        help="override a ppo option (default: the evaluator's suggested options)")
    parser.add_argument("--methods", default=",".join(METHODS),
                        help=f"comma-separated subset of {', '.join(METHODS)}")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the policy is tiny: 1)")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    overrides = {"reinforce": _overrides(args.set), "ppo": _overrides(args.set_ppo)}
    every = method_options(overrides)
    chosen = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in chosen if m not in every]
    if unknown or not chosen:
        parser.error(f"unknown method(s) {', '.join(unknown) or '(none)'}; known: {', '.join(every)}")
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    results: dict[str, list[dict[str, Any]]] = {}
    timings: dict[str, float] = {}
    for method in chosen:
        controller, opts = every[method]
        start = time.perf_counter()
        results[method] = [run_one(controller, s, args.table, opts, args.batch) for s in seeds]
        timings[method] = time.perf_counter() - start
    summary = summarise(results, BUDGETS)
    _print(summary, chosen)
    options = {name: {**BenchmarkEvaluator.suggested_controller_options.get(name, {}), **overrides[name]}
               for name in overrides}
    samples = ", ".join(f"{m} {summary[m]['mean_samples']:.0f}" for m in chosen)
    seconds = ", ".join(f"{m} {t:.1f}" for m, t in timings.items())
    print(f"seeds {seeds.start}-{seeds.stop - 1}; batch {args.batch}; "
          f"reinforce options {options['reinforce']}; ppo options {options['ppo']}; "
          f"mean samples per run: {samples}; seconds: {seconds}")
    payload = {"budgets": list(BUDGETS), "seeds": list(seeds), "batch": args.batch,
               "reinforce_options": options["reinforce"], "ppo_options": options["ppo"],
               "methods": {m: {"controller": every[m][0], "options": every[m][1]} for m in chosen},
               "summary": summary, "seconds": timings}
    if not args.no_write:
        write_result("nb201", payload)
    return payload


if __name__ == "__main__":
    main()
