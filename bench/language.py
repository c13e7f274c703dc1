"""A recurrent-cell search against a plain LSTM for the same CPU time (issue 9).

On a text corpus (default ``/work/shared/data/wikitext-2/``, the product's 10,000-word cap), two
contenders get the same total budget (``--minutes``, default 20) and run **at the same time**, each
in its own process with one torch thread, so the machine's other load hits both alike:

- ``enas-rnn``: the product's path with the defaults a user gets (space 12 nodes / hidden 200 /
  tied / ENAS dropouts, REINFORCE, the ``shared`` evaluator, batch 64): ``run_search`` for
  ``--search-share`` of the budget, then ``train_final`` of the derived cell (the language trainer,
  ``init`` auto as the worker) for whatever the search left of the total (at least a tenth of it);
- ``lstm``: the ``lstm`` space (the language control, same hidden size, embedding, tying and
  dropouts) as the product runs a space without decisions: final training only, from scratch, for
  the whole budget (``training.fixed.whole_budget_config``), by the same language trainer.

With a time budget the product's planner may choose a smaller hidden size per run (and per
contender); ``--no-plan`` keeps the spaces' sizes, so both have the same hidden size (the table's
``hidden`` column says what each trained). Both are tested on the corpus's whole test split; the
table gives test perplexity, parameters, epochs, and the load average (1 min) sampled every
``LOAD_POLL_S`` seconds while they ran. The
product takes the search and final budgets separately (the designer's defaults: 20 min + 2 min);
the half/half split is ``bench.quality``'s, so the final child gets real training time.

Run: ``.venv/bin/python -m bench.language [--minutes 20] [--search-share 0.5] [--data DIR]``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch

from bench._common import format_table, write_result
from bench._timing import DATA_DIR, load_average
from searchcore.config import SearchConfig
from searchcore.events import read_events
from searchcore.search.loop import run_search
from searchcore.spaces import create_space
from searchcore.training.final import FinalConfig, train_final
from searchcore.training.fixed import fixed_architecture

logger = logging.getLogger(__name__)

WIKITEXT = DATA_DIR / "wikitext-2"
DEFAULT_OUT = Path("/tmp/bench_language")
CONTENDERS = ("enas-rnn", "lstm")
MIN_FINAL_FRACTION = 0.1  # a search that overran its share still leaves final training this much
LOAD_POLL_S = 30.0


def enas_run(out: Path, args: argparse.Namespace, options: dict[str, Any]) -> dict[str, Any]:
    """Search then final training of the derived cell, with the product's defaults."""
    started = time.monotonic()
    total = args.minutes * 60
    config = SearchConfig(space="enas-rnn", data=str(args.data), space_options=options,
                          budget_seconds=total * args.search_share, seed=args.seed, device="cpu",
                          batch_size=args.batch_size, plan=not args.no_plan)
    result = run_search(config, out / "search").to_dict()
    search_seconds = time.monotonic() - started
    final_seconds = max(total - search_seconds, MIN_FINAL_FRACTION * total)
    final = _final(out, FinalConfig(arch=result, data=str(args.data), budget_seconds=final_seconds,
                                    seed=args.seed, device="cpu", supernet=str(out / "search"),
                                    batch_size=args.batch_size, plan=not args.no_plan))
    best = result.get("best") or {}
    plans = [e.payload for e in read_events(out / "search" / "events.jsonl") if e.type == "plan"]
    return {**final, "plans": plans + final["plans"], "search_status": result["status"],
            "search_seconds": round(search_seconds, 1),
            "final_budget_seconds": round(final_seconds, 1), "search_epochs": result["epochs"],
            "controller_samples": result["archs_evaluated"], "derived_reward": best.get("reward"),
            "architecture": best.get("architecture")}


def lstm_run(out: Path, args: argparse.Namespace, options: dict[str, Any]) -> dict[str, Any]:
    """The LSTM trained from scratch for the whole budget, as a run of a space without decisions."""
    arch = fixed_architecture("lstm", options)
    return _final(out, FinalConfig(arch=arch, data=str(args.data), budget_seconds=args.minutes * 60,
                                   seed=args.seed, device="cpu", init="scratch", space_options=options,
                                   batch_size=args.batch_size, plan=not args.no_plan))


def _final(out: Path, config: FinalConfig) -> dict[str, Any]:
    final = train_final(config, out / "final")
    metrics = final.metrics or {}
    history = metrics.get("history") or []
    best = next((row for row in history if row.get("epoch") == metrics.get("best_epoch")), {})
    saved = json.loads((out / "final" / "train_config.json").read_text())
    arch = saved["arch"]
    hidden = create_space(arch["space"], **saved["space_options"]).options.hidden_size
    plans = [e.payload for e in read_events(out / "final" / "events.jsonl") if e.type == "plan"]
    return {"status": final.status, "test_perplexity": metrics.get("test_perplexity"),
            "test_accuracy": metrics.get("test_accuracy"), "test_tokens": metrics.get("test_tokens"),
            "best_valid_perplexity": best.get("valid_perplexity"), "params": metrics.get("params"),
            "epochs_run": final.epochs_run,
            "final_seconds": final.elapsed_seconds, "batch_size": saved["batch_size"], "init": saved["init"],
            "hidden_size": saved["child_overrides"].get("hidden_size", hidden), "plans": plans,
            "recipe": metrics.get("recipe"), "verdict": metrics.get("verdict"), "history": history,
            "vocab_size": metrics.get("vocab_size")}


def run_contender(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """One contender in this process (the child side of ``--contender``)."""
    torch.set_num_threads(args.threads)
    options = {"hidden_size": args.hidden_size} if args.hidden_size else {}
    out = args.out / name
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    started, wall_start, load = time.monotonic(), time.time(), load_average()
    if name == "enas-rnn":
        row = enas_run(out, args, {**options, **({"num_nodes": args.num_nodes} if args.num_nodes else {})})
    else:
        row = lstm_run(out, args, options)
    return {"contender": name, "load_average_before": load, "load_average_after": load_average(),
            "elapsed_seconds": round(time.monotonic() - started, 1), "wall_start": wall_start,
            "wall_end": time.time(), **row}


def run_all(args: argparse.Namespace, contenders: list[str]) -> tuple[list[dict[str, Any]], list[Any]]:
    """Every contender in its own process, all at once; the load average sampled while they run."""
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "MKL_NUM_THREADS": str(args.threads)}
    procs = {}
    for name in contenders:
        cmd = [sys.executable, "-m", "bench.language", *_child_args(args), "--contender", name]
        log = open(args.out / f"{name}.log", "w", encoding="utf-8")  # noqa: SIM115 - closed below
        procs[name] = (subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env), log)
    started, loads = time.monotonic(), []
    while any(p.poll() is None for p, _ in procs.values()):
        loads.append([round(time.monotonic() - started), *load_average()])
        _wait_any(procs, LOAD_POLL_S)
    runs = []
    for name, (proc, log) in procs.items():
        log.close()
        result = args.out / f"{name}.json"
        if proc.returncode != 0 or not result.is_file():
            tail = (args.out / f"{name}.log").read_text(encoding="utf-8")[-2000:]
            raise RuntimeError(f"contender {name} failed (exit {proc.returncode}):\n{tail}")
        runs.append(json.loads(result.read_text()))
    return runs, loads


def _wait_any(procs: dict[str, Any], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(p.poll() is None for p, _ in procs.values()):
        time.sleep(min(1.0, max(deadline - time.monotonic(), 0.0)))


def _child_args(args: argparse.Namespace) -> list[str]:
    out = ["--minutes", str(args.minutes), "--search-share", str(args.search_share), "--data", str(args.data),
           "--threads", str(args.threads), "--out", str(args.out), "--seed", str(args.seed)]
    out += ["--no-plan"] if args.no_plan else []
    for flag in ("batch_size", "hidden_size", "num_nodes"):
        if getattr(args, flag):
            out += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
    return out


def summarise(runs: list[dict[str, Any]]) -> list[list[Any]]:
    return [[r["contender"], r["status"], r["test_perplexity"], r["best_valid_perplexity"], r["hidden_size"],
             r["params"],
             r["epochs_run"], r.get("search_epochs", ""), r.get("controller_samples", ""),
             r["elapsed_seconds"], r["load_average_before"][0], r["load_average_after"][0]] for r in runs]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=20.0, help="total CPU budget of each contender")
    parser.add_argument("--search-share", type=float, default=0.5, help="of the total: enas-rnn search")
    parser.add_argument("--data", type=Path, default=WIKITEXT, help="a text corpus (folder, zip or .txt)")
    parser.add_argument("--contenders", default=",".join(CONTENDERS))
    parser.add_argument("--threads", type=int, default=1, help="torch threads of each contender's process")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, help="both contenders (default: the product's, 64)")
    parser.add_argument("--hidden-size", type=int, help="both contenders (default: the spaces' 200)")
    parser.add_argument("--num-nodes", type=int, help="enas-rnn cell nodes (default: the space's 12)")
    parser.add_argument("--no-plan", action="store_true",
                        help="keep the spaces' sizes (no budget planner): both at the same hidden size")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="work directory (emptied first)")
    parser.add_argument("--name", default="language", help="result file name under bench/results")
    parser.add_argument("--results-dir", type=Path, help="where the result JSON goes (default bench/results)")
    parser.add_argument("--contender", choices=CONTENDERS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    unknown = sorted(set(args.contenders.split(",")) - set(CONTENDERS))
    if unknown or not 0.0 < args.search_share < 1.0 or args.minutes <= 0:
        parser.error(f"contenders must be among {', '.join(CONTENDERS)}; --search-share in (0, 1); "
                     "--minutes > 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if args.contender:  # one contender, in the process its parent started
        row = run_contender(args.contender, args)
        (args.out / f"{args.contender}.json").write_text(json.dumps(row, default=str))
        return 0
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    started, load_start = time.monotonic(), load_average()
    runs, loads = run_all(args, [c for c in args.contenders.split(",") if c])
    print(format_table(["contender", "status", "test ppl", "valid ppl", "hidden", "params", "final epochs",
                        "search epochs", "samples", "seconds", "load before", "load after"], summarise(runs)))
    peak = max((row[1] for row in loads), default=load_start[0])
    print(f"threads={args.threads} each, in parallel; load average start={load_start} end={load_average()} "
          f"max 1-min sampled={peak} ({time.monotonic() - started:.0f}s)")
    config = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items() if k != "contender"}
    write_result(args.name, {"config": config, "load_average_start": load_start,
                             "load_average_end": load_average(), "load_samples": loads, "runs": runs},
                 directory=args.results_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
