"""Evaluator ``benchmark``: NAS-Bench-201 table lookup, for instant and honest controller checks.

``context.data`` is the path of a CSV with columns ``arch`` (the benchmark's arch string) and
``cifar10_test_acc_200ep`` (test accuracy in percent after 200 epochs). The reward of an nb201
architecture is that accuracy, in percent. Nothing is trained.
"""

from __future__ import annotations

import csv
import functools
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from searchcore.evaluators import register_evaluator
from searchcore.evaluators.base import EpochStats, Evaluator, EvaluatorContext

logger = logging.getLogger(__name__)

ARCH_COLUMN = "arch"
ACC_COLUMN = "cifar10_test_acc_200ep"


def load_table(path: str | os.PathLike[str]) -> dict[str, float]:
    """``arch_str -> accuracy``; read once per file (cached by path and modification time)."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"benchmark table {str(p)!r} does not exist")
    return _cached_table(str(p.resolve()), p.stat().st_mtime)


@functools.lru_cache(maxsize=4)  # bounded: a long-lived worker may see a table replaced many times
def _cached_table(resolved: str, mtime: float) -> dict[str, float]:
    table = _read_table(Path(resolved))
    logger.info("loaded %s architectures from %s", len(table), resolved)
    return table


def _read_table(path: Path) -> dict[str, float]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        columns = reader.fieldnames or []
        if ARCH_COLUMN not in columns or ACC_COLUMN not in columns:
            raise ValueError(f"benchmark table {path.name} needs columns {ARCH_COLUMN!r} and {ACC_COLUMN!r}, "
                             f"found {columns}")
        table: dict[str, float] = {}
        for line, row in enumerate(reader, start=2):
            try:
                table[row[ARCH_COLUMN].strip()] = float(row[ACC_COLUMN])
            except (TypeError, ValueError) as exc:
                raise ValueError(f"benchmark table {path.name}, line {line}: bad row ({exc})") from exc
    if not table:
        raise ValueError(f"benchmark table {path.name} has no rows")
    return table


class BenchmarkEvaluator(Evaluator):
    name = "benchmark"
    trains_weights = False
    spaces = frozenset({"nb201"})
    needs_dataset = False  # ``data`` is the table CSV
    # Options the search loop should give the controller unless the user set them. The table's
    # rewards are percent and the controller's defaults expect [0, 1], hence ``reward_scale``; the
    # rest was tuned by bench/nb201.py (5 samples per update): no temperature, tanh bound 1.1 on op
    # logits instead of ENAS's 0.44 (so the policy can concentrate), a faster lr and baseline.
    suggested_controller_options: dict[str, dict[str, Any]] = {
        "reinforce": {"reward_scale": 0.01, "temperature": 0, "op_tanh_reduce": 1.0, "lr": 0.03,
                      "baseline_decay": 0.9},
    }
    suggested_samples_per_update = 5

    def __init__(self, context: EvaluatorContext) -> None:
        if getattr(context.space, "name", None) != "nb201":
            raise ValueError(f"the benchmark evaluator scores only the nb201 space, not "
                             f"{getattr(context.space, 'name', context.space)!r}")
        if context.data is None:
            raise ValueError("the benchmark evaluator needs the table CSV path as its data")
        self.context = context
        self.table = load_table(context.data)
        self._seen: set[str] = set()

    @property
    def distinct_evaluated(self) -> int:
        return len(self._seen)

    def train_epoch(self, sample_arch: Callable[[], Any]) -> EpochStats:
        return EpochStats(loss=None, accuracy=None, steps=0)

    def reward(self, arch: Any, full: bool = False) -> float:
        arch_str = getattr(arch, "arch_str", None)
        if arch_str is None and isinstance(arch, dict):
            arch_str = self.context.space.arch_from_json(arch).arch_str
        if arch_str is None:
            raise ValueError(f"the benchmark evaluator needs an nb201 architecture, "
                             f"got {type(arch).__name__}")
        if arch_str not in self.table:
            raise ValueError(f"architecture {arch_str} is not in the benchmark table")
        self._seen.add(arch_str)
        return self.table[arch_str]

    def state_dict(self) -> dict[str, Any]:
        return {"seen": sorted(self._seen)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._seen = set(state.get("seen", []))


@register_evaluator("benchmark")
def benchmark_evaluator(context: EvaluatorContext) -> BenchmarkEvaluator:
    return BenchmarkEvaluator(context)


benchmark_evaluator.evaluator_class = BenchmarkEvaluator  # type: ignore[attr-defined]
