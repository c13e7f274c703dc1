"""Where evaluation jobs run: the executor an evaluator is given through its ``EvaluatorContext``.

A ``Job`` is self-contained and JSON-serialisable: the evaluator's name, the architecture's JSON
and the settings the job needs (e.g. the table's path); it returns metrics (``{"reward": r}``) and
is idempotent, so running it twice, or on another machine, gives the same answer. ``run_job`` runs
one anywhere the evaluator's package is importable, by the runner registered for its evaluator.

``InProcessExecutor`` (the default) runs the jobs here when they are waited on, checking
``should_stop`` between jobs; a Celery executor (scale-out issue) sends ``job.to_dict()`` to
workers that call ``run_job`` and implements the same two methods.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from searchcore.registry import Registry

Metrics = dict[str, float]


@dataclass(frozen=True)
class Job:
    evaluator: str  # the registered evaluator whose job runner scores it
    arch: dict[str, Any]  # the architecture's JSON (``space.arch_to_json``)
    settings: dict[str, Any] = field(default_factory=dict)  # JSON: what the runner needs besides it

    def to_dict(self) -> dict[str, Any]:
        return {"evaluator": self.evaluator, "arch": self.arch, "settings": self.settings}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Job:
        return cls(evaluator=str(data["evaluator"]), arch=dict(data["arch"]),
                   settings=dict(data.get("settings") or {}))


@dataclass(frozen=True)
class Ticket:
    """A submitted batch: its size and what its submitter needs to collect the results."""

    size: int
    handle: Any = None


class Executor(Protocol):
    def submit(self, jobs: Sequence[Job]) -> Ticket:
        """Start (or queue) ``jobs``; returns at once."""

    def wait(self, ticket: Ticket, should_stop: Callable[[], bool]) -> list[Metrics] | None:
        """The metrics of every job, in order; ``None`` when ``should_stop()`` said stop first."""


_RUNNERS: Registry[Metrics] = Registry("evaluator job runner")
register_job_runner = _RUNNERS.register


def run_job(job: Job | dict[str, Any]) -> Metrics:
    """Run one job here (what a remote worker calls with the job's JSON)."""
    from searchcore.evaluators import _load_builtin_evaluators

    _load_builtin_evaluators()
    job = job if isinstance(job, Job) else Job.from_dict(job)
    return _RUNNERS.factory(job.evaluator)(job)


class InProcessExecutor:
    """Runs the jobs in this process, one after another, when they are waited on."""

    def submit(self, jobs: Sequence[Job]) -> Ticket:
        return Ticket(size=len(jobs), handle=tuple(jobs))

    def wait(self, ticket: Ticket, should_stop: Callable[[], bool]) -> list[Metrics] | None:
        results: list[Metrics] = []
        for i, job in enumerate(ticket.handle):
            if i and should_stop():  # between jobs: one job never waits for a stop it cannot see
                return None
            results.append(run_job(job))
        return results


__all__ = ["Executor", "InProcessExecutor", "Job", "Metrics", "Ticket", "register_job_runner", "run_job"]
