"""Where evaluation jobs run: the executor an evaluator is given through its ``EvaluatorContext``.

A ``Job`` is self-contained and JSON-serialisable: the evaluator's name, the architecture's JSON
and the settings the job needs (e.g. the table's path); it returns metrics (``{"reward": r}``) and
is idempotent, so running it twice, or on another machine, gives the same answer. ``run_job`` runs
one anywhere the evaluator's package is importable, by the runner registered for its evaluator.

``InProcessExecutor`` (the default) runs the jobs here when they are waited on, checking
``should_stop`` between jobs; a Celery executor (scale-out issue) sends ``job.to_dict()`` to
workers that call ``run_job`` and implements the same two methods.

A long job (a child trained from scratch) takes ``JobHooks``: ``should_stop`` polled inside the
job (a runner that obeys it raises ``JobCancelled``, and ``wait`` then returns ``None``) and
``on_progress(fraction)`` of the job done; ``wait``'s ``on_progress`` reports the whole batch's.
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


Progress = Callable[[float], None]  # fraction done, 0..1


def _never() -> bool:
    return False


def _ignore(fraction: float) -> None:
    return None


@dataclass(frozen=True)
class JobHooks:
    """What a running job may call back: stop it, or tell how far it is. Not part of the job."""

    should_stop: Callable[[], bool] = _never
    on_progress: Progress = _ignore


class JobCancelled(Exception):
    """Raised by a job runner when ``JobHooks.should_stop()`` said stop before the job was done."""


class Executor(Protocol):
    def submit(self, jobs: Sequence[Job]) -> Ticket:
        """Start (or queue) ``jobs``; returns at once."""

    def wait(self, ticket: Ticket, should_stop: Callable[[], bool],
             on_progress: Progress | None = None) -> list[Metrics] | None:
        """The metrics of every job, in order; ``None`` when ``should_stop()`` said stop first.
        ``on_progress``: the fraction of the batch done (if the executor can tell)."""


_RUNNERS: Registry[Metrics] = Registry("evaluator job runner")
register_job_runner = _RUNNERS.register


def run_job(job: Job | dict[str, Any], hooks: JobHooks | None = None) -> Metrics:
    """Run one job here (what a remote worker calls with the job's JSON). The registered runner is
    called as ``runner(job, hooks)``; it may raise ``JobCancelled`` when ``hooks.should_stop()``."""
    from searchcore.evaluators import _load_builtin_evaluators

    _load_builtin_evaluators()
    job = job if isinstance(job, Job) else Job.from_dict(job)
    return _RUNNERS.factory(job.evaluator)(job, hooks or JobHooks())


class InProcessExecutor:
    """Runs the jobs in this process, one after another, when they are waited on."""

    def submit(self, jobs: Sequence[Job]) -> Ticket:
        return Ticket(size=len(jobs), handle=tuple(jobs))

    def wait(self, ticket: Ticket, should_stop: Callable[[], bool],
             on_progress: Progress | None = None) -> list[Metrics] | None:
        results: list[Metrics] = []
        jobs: tuple[Job, ...] = ticket.handle
        report = on_progress or _ignore
        for i, job in enumerate(jobs):
            if i and should_stop():  # between jobs: one job never waits for a stop it cannot see
                return None
            hooks = JobHooks(should_stop, lambda f, i=i: report((i + min(max(f, 0.0), 1.0)) / len(jobs)))
            try:
                results.append(run_job(job, hooks))
            except JobCancelled:
                return None
            report((i + 1) / len(jobs))
        return results


__all__ = ["Executor", "InProcessExecutor", "Job", "JobCancelled", "JobHooks", "Metrics", "Progress",
           "Ticket", "register_job_runner", "run_job"]
