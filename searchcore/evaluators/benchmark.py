"""Evaluator ``benchmark``: NAS-Bench-201 table lookup, for instant and honest controller checks.

``context.data`` is the path of a CSV with a column ``arch`` (the benchmark's arch string) and one
or more accuracy columns in percent (``cifar10_test_acc_200ep``: CIFAR-10 test accuracy after 200
epochs; a NAS-Bench-201 table may also carry CIFAR-100 and ImageNet16-120 ones). The option
``accuracy_column`` names the one to read (default: see ``benchmark_table.choose_column``). The reward
of an nb201 architecture is that accuracy, in percent. Nothing is trained.

Each architecture is a self-contained job (its JSON + the table's path and column) run by
``run_benchmark_job`` through the context's executor; a lookup is pure, so a job is idempotent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

from searchcore.evaluators import register_evaluator
from searchcore.evaluators.base import EpochStats, Evaluator, EvaluatorContext
from searchcore.evaluators.benchmark_table import ARCH_COLUMN, DEFAULT_COLUMN, load_table, table_column
from searchcore.evaluators.executor import Job, JobHooks, Metrics, Ticket, register_job_runner
from searchcore.schema import Option, Schema

SCHEMA = Schema("benchmark evaluator", (
    Option("accuracy_column", "str", None, "the table's accuracy column (percent); none: the only column "
           f"besides {ARCH_COLUMN}, else {DEFAULT_COLUMN}", nullable=True),
))


class BenchmarkEvaluator(Evaluator):
    name = "benchmark"
    trains_weights = False
    spaces = frozenset({"nb201"})
    needs_dataset = False  # ``data`` is the table CSV
    summary: ClassVar[str] = "NAS-Bench-201 table lookup: instant, for the nb201 space only."
    schema: ClassVar[Schema] = SCHEMA
    # Options the search loop should give the controller unless the user set them. The table's
    # rewards are percent and the controller's defaults expect [0, 1], hence ``reward_scale``; the
    # rest was tuned by bench/nb201.py (5 samples per update): no temperature, tanh bound 1.1 on op
    # logits instead of ENAS's 0.44 (so the policy can concentrate), a faster lr and baseline.
    # PPO: the same, checked on seeds 100-119 against lr 0.01/0.05, 1/2/8 epochs, clip 0.1/0.3.
    suggested_controller_options: dict[str, dict[str, Any]] = {
        "reinforce": {"reward_scale": 0.01, "temperature": 0, "op_tanh_reduce": 1.0, "lr": 0.03,
                      "baseline_decay": 0.9},
        "ppo": {"reward_scale": 0.01, "temperature": 0, "op_tanh_reduce": 1.0, "lr": 0.03,
                "baseline_decay": 0.9},
    }
    suggested_samples_per_update: ClassVar[int] = 5

    def __init__(self, context: EvaluatorContext, *, accuracy_column: str | None = None) -> None:
        # the space is judged by ``searchcore.compat`` from ``spaces`` before anything is built
        if context.data is None:
            raise ValueError("the benchmark evaluator needs the table CSV path as its data")
        self.context = context
        self.column = table_column(context.data, accuracy_column)  # a missing column fails here, at setup
        self.table = load_table(context.data, self.column)
        self.table_path = str(Path(context.data).resolve())
        self._seen: set[str] = set()

    @property
    def distinct_evaluated(self) -> int:
        return len(self._seen)

    def train_epoch(self, sample_arch: Callable[[], Any]) -> EpochStats:
        return EpochStats(loss=None, accuracy=None, steps=0)

    def submit(self, archs: Sequence[Any], full: bool = False) -> Ticket:
        settings = {"table": self.table_path, "column": self.column}
        jobs = [Job(self.name, self._arch_json(arch), settings) for arch in archs]
        return Ticket(size=len(jobs), handle=(self.context.executor.submit(jobs), jobs))

    def wait(self, ticket: Ticket, should_stop: Callable[[], bool]) -> list[float] | None:
        inner, jobs = ticket.handle
        metrics = self.context.executor.wait(inner, should_stop)
        if metrics is None:
            return None
        self._seen.update(job.arch["arch_str"] for job in jobs)
        return [float(m["reward"]) for m in metrics]

    def _arch_json(self, arch: Any) -> dict[str, Any]:
        space = self.context.space
        if isinstance(arch, dict):
            arch = space.arch_from_json(arch)
        if getattr(arch, "arch_str", None) is None:
            raise ValueError(f"the benchmark evaluator needs an nb201 architecture, "
                             f"got {type(arch).__name__}")
        return space.arch_to_json(arch)

    def state_dict(self) -> dict[str, Any]:
        return {"seen": sorted(self._seen)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._seen = set(state.get("seen", []))


@register_job_runner("benchmark")
def run_benchmark_job(job: Job, hooks: JobHooks | None = None) -> Metrics:
    """The table's accuracy of ``job.arch`` (``settings``: the CSV's ``table`` path and its ``column``)."""
    table = load_table(job.settings["table"], job.settings.get("column"))
    arch_str = job.arch.get("arch_str")
    if arch_str not in table:
        raise ValueError(f"architecture {arch_str} is not in the benchmark table")
    return {"reward": table[arch_str]}


@register_evaluator("benchmark")
def benchmark_evaluator(context: EvaluatorContext, accuracy_column: str | None = None) -> BenchmarkEvaluator:
    return BenchmarkEvaluator(context, accuracy_column=accuracy_column)


benchmark_evaluator.evaluator_class = BenchmarkEvaluator  # type: ignore[attr-defined]
