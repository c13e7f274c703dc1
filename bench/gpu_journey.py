"""The device check in one call: the GPU epoch bench, then search -> train -> export -> predict on CUDA.

Run on a machine with a GPU, from the repository root (about 6-7 minutes: bench capped at 150 s,
search 45 s, training 30 s, export; each step is failed after ``--step-timeout``)::

    PYTHONUNBUFFERED=1 python3 -m bench.gpu_journey

``--device cpu --tiny`` runs the same steps on CPU at tiny sizes (the test does; a minute or two).
Each step prints ``PASS <step>: ...`` or ``FAIL <step>: ...``; the last line is ``JOURNEY PASS`` or
``JOURNEY FAIL (<steps>)`` and the exit status is 0 or 1. The journey uses the CLI exactly as a user
does (``python -m searchcore search/train/export`` with ``--device``, then the package's
``predict.py`` on a real image) on the tiny CIFAR fixture, and checks that the search and the final
training really ran on the device asked for (their events and ``metrics.json`` say so).

Outputs: the few small files worth keeping (``gpu_epoch.json``, ``journey.json``, the search's
``result.json``, the training's ``metrics.json``, ``journey.log``) go to ``--out`` (default ``$OUT``
when set, else ``bench/results/gpu_journey``); the bulky work folders go to ``--work`` (default: a
temporary folder).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "cifar10_tiny_png.zip"
TINY_BENCH = ["--train-images", "48", "--valid-images", "16", "--image-size", "8", "--channels", "4",
              "--cells-per-stage", "1", "--nodes", "2", "--batch", "8", "--sweep", "16",
              "--warmup-steps", "1", "--sweep-steps", "2", "--controller-steps", "2", "--threads", "1"]
TINY_SPACE = ["--space-option", "channels=4", "--space-option", "cells_per_stage=1",
              "--space-option", "num_nodes=2", "--max-epochs", "1", "--no-plan", "--batch-size", "16",
              "--image-size", "16", "--controller-steps", "3"]


class Journey:
    """Runs the steps as subprocesses, records PASS/FAIL lines and a log."""

    def __init__(self, args: argparse.Namespace, out: Path, work: Path) -> None:
        self.args, self.out, self.work = args, out, work
        self.results: list[dict[str, Any]] = []
        self.log = (out / "journey.log").open("w", encoding="utf-8")
        self.env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                                              os.environ.get("PYTHONPATH")]))}

    def call(self, name: str, argv: list[str], timeout: float,
             cwd: Path = ROOT) -> subprocess.CompletedProcess | None:
        """One subprocess; its output goes to the log (and the bench's table to stdout)."""
        started = time.monotonic()
        try:
            proc = subprocess.run(argv, cwd=cwd, env=self.env, capture_output=True, text=True,
                                  timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            self.log.write(f"--- {name}: timed out after {timeout:.0f}s\n{exc.stdout!r}\n{exc.stderr!r}\n")
            return None
        took = time.monotonic() - started
        self.log.write(f"--- {name} ({took:.1f}s, rc {proc.returncode}): {' '.join(argv)}\n"
                       f"{proc.stdout}\n{proc.stderr}\n")
        self.log.flush()
        return proc

    def record(self, step: str, ok: bool, detail: str) -> bool:
        print(f"{'PASS' if ok else 'FAIL'} {step}: {detail}", flush=True)
        self.results.append({"step": step, "ok": ok, "detail": detail})
        return ok


def _tail(proc: subprocess.CompletedProcess | None) -> str:
    if proc is None:
        return "timed out (see journey.log)"
    lines = (proc.stderr or proc.stdout or "").strip().splitlines()
    return f"rc {proc.returncode}: {lines[-1] if lines else 'no output'}"


def check_environment(j: Journey) -> bool:
    import torch

    cuda = torch.cuda.is_available()
    name = torch.cuda.get_device_name(0) if cuda else "no CUDA device"
    detail = f"torch {torch.__version__}, {name}, python {sys.version.split()[0]}"
    return j.record("environment", cuda or j.args.device == "cpu", detail)


def run_bench(j: Journey) -> bool:
    argv = [sys.executable, "-m", "bench.gpu_epoch", "--device", j.args.device, "--results-dir", str(j.out),
            "--time-cap", str(j.args.bench_cap)] + (TINY_BENCH if j.args.tiny else [])
    proc = j.call("gpu_epoch", argv, timeout=j.args.bench_cap + 150)
    if proc is not None:
        print(proc.stdout, flush=True)
    path = j.out / "gpu_epoch.json"
    if proc is None or proc.returncode != 0 or not path.exists():
        return j.record("gpu_epoch", False, _tail(proc))
    result = json.loads(path.read_text())
    first = result["epochs"][str(result["batch"])]
    syncs = first["host_syncs"]  # None on CPU; on CUDA the loop's own are the metric read-back
    few_syncs = syncs is None or syncs <= max(4, first["steps_timed"] // 10)
    ratio = result["memory"].get("ratio_total")
    return j.record("gpu_epoch", few_syncs, f"child epoch {first['child_epoch_s']:.2f}s at batch "
                                            f"{result['batch']}, best batch {result['best_batch']}, "
                                            f"host syncs {syncs} in {first['steps_timed']} steps, "
                                            f"memory shared/child {ratio}")


def run_search(j: Journey) -> bool:
    out = j.work / "search"
    argv = [sys.executable, "-m", "searchcore", "search", "--space", "enas-micro", "--data", str(FIXTURE),
            "--controller", "reinforce", "--evaluator", "shared", "--budget", j.args.search_budget,
            "--device", j.args.device, "--seed", "0", "--out", str(out)] + (TINY_SPACE if j.args.tiny else [])
    proc = j.call("search", argv, timeout=j.args.step_timeout)
    result_path = out / "result.json"
    if proc is None or proc.returncode != 0 or not result_path.exists():
        return j.record("search", False, _tail(proc))
    shutil.copy(result_path, j.out / "result.json")
    result = json.loads(result_path.read_text())
    started_on = [e for e in _events(out / "events.jsonl") if e.get("type") == "status"
                  and "search started on" in str(e.get("payload", {}).get("message", ""))]
    on_device = bool(started_on) and j.args.device in started_on[0]["payload"]["message"]
    ok = bool(result.get("best", {}).get("architecture")) and on_device
    return j.record("search", ok, f"best reward {result.get('best', {}).get('reward')}, "
                                  f"ran on {j.args.device}: {on_device}")


def run_train(j: Journey) -> bool:
    out = j.work / "train"
    tiny = ["--epochs", "1", "--no-plan", "--batch-size", "16", "--image-size", "16"]
    budget = tiny if j.args.tiny else ["--budget", j.args.train_budget]
    argv = [sys.executable, "-m", "searchcore", "train", "--arch", str(j.work / "search" / "result.json"),
            "--data", str(FIXTURE), "--device", j.args.device, "--seed", "0", "--out", str(out), *budget]
    proc = j.call("train", argv, timeout=j.args.step_timeout)
    metrics_path = out / "metrics.json"
    if proc is None or not metrics_path.exists() or not (out / "model.pt").exists():
        return j.record("train", False, _tail(proc))
    shutil.copy(metrics_path, j.out / "metrics.json")
    metrics = json.loads(metrics_path.read_text())
    verdict = metrics.get("verdict") or {}
    # The CLI exits 1 when the model is at chance (110 fixture images, a short budget): the product's
    # honest verdict, reported here; what this step checks is that training ran on the device.
    at_chance = proc.returncode == 1 and verdict.get("above_chance") is False
    on_device = str(metrics.get("device", "")).startswith(j.args.device)
    ok = (proc.returncode == 0 or at_chance) and metrics.get("test_accuracy") is not None and on_device
    return j.record("train", ok, f"test accuracy {metrics.get('test_accuracy')}, {metrics.get('epochs_run')} "
                                 f"epochs, device {metrics.get('device')}, above chance "
                                 f"{verdict.get('above_chance')}")


def run_export_and_predict(j: Journey) -> bool:
    package = j.work / "model.zip"
    argv = [sys.executable, "-m", "searchcore", "export", str(j.work / "train"), "--out", str(package)]
    proc = j.call("export", argv, timeout=j.args.step_timeout)
    if proc is None or proc.returncode != 0 or not package.exists():
        return j.record("export", False, _tail(proc))
    j.record("export", True, f"{package.name}, {package.stat().st_size} bytes")
    unpacked = j.work / "package"
    with zipfile.ZipFile(package) as z:
        z.extractall(unpacked)
    root = next(p.parent for p in unpacked.rglob("predict.py"))
    image = j.work / "sample.png"
    with zipfile.ZipFile(FIXTURE) as z:
        name = next(n for n in z.namelist() if n.lower().endswith(".png"))
        image.write_bytes(z.read(name))
    proc = j.call("predict", [sys.executable, "predict.py", str(image)], timeout=120, cwd=root)
    line = (proc.stdout.strip().splitlines() or [""])[0] if proc is not None and proc.returncode == 0 else ""
    return j.record("predict", "sample.png" in line, line or _tail(proc))


def _events(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    p.add_argument("--tiny", action="store_true", help="tiny sizes everywhere (the CPU test)")
    p.add_argument("--skip-bench", action="store_true")
    p.add_argument("--bench-cap", type=float, default=150.0, help="gpu_epoch's --time-cap (s)")
    p.add_argument("--search-budget", default="45s")
    p.add_argument("--train-budget", default="30s")
    p.add_argument("--step-timeout", type=float, default=150.0, help="seconds before a step counts as failed")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--work", type=Path, default=None)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    out = args.out or Path(os.environ.get("OUT") or ROOT / "bench" / "results" / "gpu_journey")
    out.mkdir(parents=True, exist_ok=True)
    work = args.work or Path(tempfile.mkdtemp(prefix="gpu_journey_"))
    work.mkdir(parents=True, exist_ok=True)
    j = Journey(args, out, work)
    started = time.monotonic()
    if check_environment(j):
        if not args.skip_bench:
            run_bench(j)
        if run_search(j) and run_train(j):
            run_export_and_predict(j)
    failed = [r["step"] for r in j.results if not r["ok"]]
    expected = 2 + (0 if args.skip_bench else 1) + 3  # environment, search, train, export, predict (+ bench)
    if len(j.results) < expected and not failed:
        failed = ["incomplete"]
    summary = {"device": args.device, "tiny": args.tiny, "steps": j.results, "passed": not failed,
               "wall_s": round(time.monotonic() - started, 1), "work": str(work)}
    (out / "journey.json").write_text(json.dumps(summary, indent=2))
    j.log.close()
    print("JOURNEY PASS" if not failed else f"JOURNEY FAIL ({', '.join(failed)})", flush=True)
    return 0 if not failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
