"""Running one claimed search: search -> final training -> package, with cancel, resume and status.

The task (``worker.tasks.run_search``) claims the row; this module does the work while a
heartbeat thread keeps the lease. Every stage is resumable: ``run_search`` resumes from its
checkpoint (and returns its stored result when it had finished), final training restarts from
the search's last event, and export is cheap. A lost lease stops the run without touching the
row, which now belongs to whoever claimed it. A worker shutting down (``worker.shutdown``) pauses
the run at its next step: the search is checkpointed, released (still ``running``, lease expired,
phase ``paused``, this attempt not counted) and enqueued again, so the next free worker resumes it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from searchcore import FinalConfig, export_package, run_search, train_final
from searchcore.compat import needs_dataset, trains_only
from searchcore.data import DatasetError
from searchcore.events import Emitter
from searchcore.planning.apply import planned_minimum_seconds
from searchcore.search.result import SearchResult
from searchcore.training.fixed import fixed_architecture, whole_budget_config
from searchcore.training.verdict import at_chance_message
from searchcore.validation import MAX_SEARCH_SECONDS
from webapp.celery_app import children_queue, enqueue
from webapp.redaction import redact_paths
from webapp.searches import status as search_status
from webapp.searches.config import to_search_config
from webapp.searches.models import Search, TrainedModel
from worker import placement, shutdown
from worker.executor import CeleryExecutor, fanout_enabled
from worker.lease import Heartbeat
from worker.sink import DbChannelSink
from worker.task_kinds import RunKind, run_kind

logger = logging.getLogger(__name__)

SEARCH_SHARE = 0.85  # of the progress bar, when a final training follows
CANCEL_POLL_SECONDS = 1.0
PAUSED = "paused"  # the search loop's result status when ``should_pause`` stopped it
PAUSED_MESSAGE = "Paused: its worker shut down. It resumes from its last checkpoint when a worker is free."


class Paused(Exception):
    """The worker is shutting down: give the search back instead of ending it."""


class StopCheck:
    """``should_stop`` for searchcore: the DB's cancel flag (read at most once a second), a lost lease,
    or this worker shutting down (``pausing``)."""

    def __init__(self, search_id: int, heartbeat: Heartbeat, interval: float = CANCEL_POLL_SECONDS,
                 shutting_down: Callable[[], bool] = shutdown.requested) -> None:
        self.search_id = search_id
        self.heartbeat = heartbeat
        self.interval = interval
        self.shutting_down = shutting_down
        self.cancelled = False
        self.sink: DbChannelSink | None = None  # its writes notice a lost lease before the heartbeat may
        self._last = float("-inf")

    @property
    def lost(self) -> bool:
        return self.heartbeat.lost.is_set() or (self.sink is not None and self.sink.lease_lost)

    def pausing(self) -> bool:
        """The search loop's ``should_pause``: the worker is shutting down."""
        return self.shutting_down()

    def __call__(self) -> bool:
        if self.lost or self.cancelled or self.pausing():
            return True
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self.cancelled = Search.objects.filter(pk=self.search_id, cancel_requested=True).exists()
        return self.cancelled


def run_claimed_search(search_id: int, owner: str, worker_name: str = "") -> str | None:
    """Run a search this process has claimed; returns its final status (``None``: lease lost).
    ``worker_name``: the Celery node name, recorded on the search with its device."""
    search = Search.objects.select_related("dataset").get(pk=search_id)
    with Heartbeat(search_id, owner) as heartbeat:
        return SearchRunner(search, owner, StopCheck(search_id, heartbeat), worker_name).run()


class SearchRunner:
    def __init__(self, search: Search, owner: str, stop: StopCheck, worker_name: str = "") -> None:
        self.search = search
        self.owner = owner
        self.stop = stop
        self.worker_name = worker_name
        self.device = placement.torch_device(search.device_class)
        self.sink = DbChannelSink(search.pk, lease_owner=owner)
        stop.sink = self.sink
        self.train_only = trains_only(search.config["space"])  # one architecture: final training only
        self.transfer = (search.config.get("transfer") or {}).get("architecture")  # another search's, here
        self.config = whole_budget_config(search.config) if self.train_only else search.config
        self.directory = search.directory
        self.completed = False  # every stage ran: a run at chance fails, yet its bar is full

    def run(self) -> str | None:
        try:
            status, message = self._stages()
        except Paused:
            return self._release()
        except DatasetError as exc:  # a ValueError too; its message is written for the user
            status, message = Search.FAILED, f"Dataset problem: {exc}"
        except ValueError as exc:
            status, message = Search.FAILED, str(exc)
        except Exception as exc:  # noqa: BLE001 - recorded on the search, traceback in the log
            logger.exception("search %s crashed", self.search.pk)
            status, message = Search.FAILED, f"Internal error ({type(exc).__name__}: {exc})"[:500]
        if self.stop.lost:
            logger.warning("search %s: lease lost; leaving it to its new owner", self.search.pk)
            return None
        return self._finish(status, redact_paths(message))  # no server paths shown to users

    @property
    def kind(self) -> RunKind:
        """What differs between task kinds (an unknown one fails the run inside ``run``)."""
        return run_kind(self.config["space"])

    # -- stages ---------------------------------------------------------------------------------
    def _stages(self) -> tuple[str, str]:
        self._place()
        if self.stop():
            return Search.CANCELLED, "Cancelled."
        if self.train_only:
            return self._train_only()
        if self.transfer is not None:
            return self._train_given(self.transfer)
        final_budget = self.config.get("final") or {}
        has_final = self._reads_dataset()  # a table search has no dataset to train on
        self.sink.set_stage(0.0, SEARCH_SHARE if has_final else 1.0,
                            eta_extra=float(final_budget.get("budget_seconds") or 0.0) if has_final else 0.0)
        result = run_search(self._search_config(), self.directory / "search", sink=self.sink,
                            should_stop=self.stop, should_pause=self.stop.pausing, emit_finished=False,
                            wall_clock_cap=MAX_SEARCH_SECONDS,  # the service's cap, whatever the budget
                            executor=self._executor())
        if result.status == PAUSED and not self.stop.lost:
            raise Paused
        if self.stop.lost or result.status == Search.CANCELLED:
            return Search.CANCELLED, "Cancelled during the search."
        if result.status != Search.SUCCEEDED:
            return Search.FAILED, result.message or "The search failed."
        if not has_final:
            return Search.SUCCEEDED, f"Search finished; best reward {result.best_reward:.4g}."
        return self._final_and_package(result)

    def _place(self) -> None:
        """Record which worker and device run this search (the list and live pages show them); a gpu
        search on a worker without CUDA fails here (``placement.NoGpu``), never falls back to the CPU."""
        Search.objects.filter(pk=self.search.pk, lease_owner=self.owner).update(
            worker_name=self.worker_name[:200], device="")
        described = placement.check_and_describe(self.search.device_class, self.worker_name)
        Search.objects.filter(pk=self.search.pk, lease_owner=self.owner).update(device=described[:200])
        logger.info("search %s runs on %s (%s)", self.search.pk, described, self.worker_name or "no name")

    def _train_only(self) -> tuple[str, str]:
        """The one architecture of a space without decisions, trained for the whole budget (no search);
        it is the run's best from the start, so the pages draw it."""
        return self._train_given(fixed_architecture(self.config["space"], self.config.get("space_options")))

    def _train_given(self, arch: dict[str, Any]) -> tuple[str, str]:
        """Final training of ``arch`` without a search: a fixed network, or a transfer of another search's
        architecture to this run's dataset and sizes (``webapp.searches.transfer``)."""
        Search.objects.filter(pk=self.search.pk, lease_owner=self.owner).update(
            best={**(self.search.best or {}), "architecture": arch, "reward": None})
        result = SearchResult(space=self.config["space"], best_arch=arch, best_reward=None,
                              status=Search.SUCCEEDED, epochs=0, archs_evaluated=0, elapsed_seconds=0.0)
        return self._final_and_package(result, start=0.0)

    def _final_and_package(self, result: Any, start: float = SEARCH_SHARE) -> tuple[str, str]:
        self.sink.truncate_after(result.last_seq)  # a resumed run redoes final training from scratch
        self.sink.set_stage(start, 1.0, elapsed_before=result.elapsed_seconds)
        final = train_final(self._final_config(result), self.directory / "final", sink=self.sink,
                            should_stop=self.stop, first_seq=result.last_seq)
        pausing = not self.stop.lost and not self.stop.cancelled and self.stop.pausing()
        if final.status == Search.CANCELLED and pausing:  # restarts from the search's result: redone
            raise Paused
        if final.status == Search.CANCELLED or self.stop.lost:
            return Search.CANCELLED, "Cancelled during final training."
        Emitter(self.sink, last_seq=self.sink.last_seq).emit(
            "status", status="exporting", message="building the download package")
        package = export_package(self.directory / "final", self.directory / "package.zip")
        relative = package.relative_to(settings.MEDIA_ROOT).as_posix()
        metrics = {**(final.metrics or {}), **self.kind.extras(self.directory / "final",
                                                               str(self.search.dataset.path))}
        TrainedModel.objects.update_or_create(
            search=self.search, defaults={"metrics": metrics, "package": relative})
        self.completed = True
        verdict = (final.metrics or {}).get("verdict")
        if verdict is not None and not verdict["above_chance"]:  # never a success; the package stays
            minimum = planned_minimum_seconds(self.directory / "search", self.directory / "final")
            return Search.FAILED, at_chance_message(verdict, self._run_seconds(result, final), minimum)
        headline = self.kind.headline(final.metrics or {})
        searched = not (self.train_only or self.transfer)
        done = "Search and final training finished" if searched else "Training finished"
        return Search.SUCCEEDED, f"{done}; {headline}." if headline else f"{done}."

    def _run_seconds(self, result: Any, final: Any) -> float:
        """The run's total budget: each stage's configured seconds, else the time the stage took."""
        final_budget = (self.config.get("final") or {}).get("budget_seconds")
        return (float(self.config.get("budget_seconds") or result.elapsed_seconds)
                + float(final_budget or final.elapsed_seconds))

    def _search_config(self) -> Any:
        if not self._reads_dataset():
            data = str(settings.NB201_TABLE)  # the table a dataset-free evaluator (benchmark) reads
        else:
            data = str(self.search.dataset.path)
        return to_search_config(self.config, data=data, device=self.device)

    def _executor(self) -> Any:
        """Scratch children on the `children.<class>` queue when ``CHILDREN_FANOUT`` says so, else in
        process."""
        device_class = self.search.device_class
        if not fanout_enabled(self.config.get("evaluator") or "shared", device_class):
            return None
        logger.info("search %s: children fanned out over the %s queue", self.search.pk,
                    children_queue(device_class))
        return CeleryExecutor(self.search.pk, device_class=device_class)

    def _reads_dataset(self) -> bool:
        return needs_dataset(self.config.get("evaluator") or "shared") and self.search.dataset_id is not None

    def _final_config(self, result: Any) -> FinalConfig:
        """The stored ``final`` settings as they are, plus what only the worker knows; the task kind's
        inputs (``worker.task_kinds``: seed, and an image's side and colour) follow the search, the
        batch size does not."""
        pipeline = self.kind.final_inputs(self.config, str(self.search.dataset.path))
        return FinalConfig(**dict(self.config.get("final") or {}), **pipeline, arch=result.to_dict(),
                           data=str(self.search.dataset.path), device=self.device,
                           supernet=str(self.directory / "search"),
                           space_options=dict(self.config.get("space_options") or {}))

    # -- ending ---------------------------------------------------------------------------------
    def _release(self) -> str | None:
        """Give the search back for another worker: a ``paused`` status event while the lease is ours,
        then the row released (still ``running``, lease expired so any claim takes it at once, this
        attempt not counted) and a message enqueued. A cancel that came meanwhile wins."""
        if self.stop.lost:
            return None
        Emitter(self.sink, last_seq=self.sink.last_seq).emit("status", status=PAUSED, message=PAUSED_MESSAGE)
        now = timezone.now()
        released = Search.objects.filter(pk=self.search.pk, lease_owner=self.owner, status=Search.RUNNING,
                                         cancel_requested=False).update(
            lease_owner="", lease_expires_at=now - timedelta(seconds=1), phase=PAUSED, message=PAUSED_MESSAGE,
            eta_seconds=None, attempts=F("attempts") - 1)
        if not released:
            if self.sink.lease_lost:
                return None
            return self._finish(Search.CANCELLED, "Cancelled.")
        logger.info("search %s paused by a worker shutdown; released for the next worker", self.search.pk)
        try:
            enqueue("worker.tasks.run_search", self.search.pk)
        except Exception:  # noqa: BLE001 - the next worker's start-up recovery enqueues it as well
            logger.warning("search %s: could not enqueue it again", self.search.pk, exc_info=True)
        return PAUSED

    def _finish(self, status: str, message: str) -> str | None:
        updated = Search.objects.filter(pk=self.search.pk, lease_owner=self.owner,
                                        status__in=search_status.moves_into(status)).update(
            status=status, message=message, phase=status, finished_at=timezone.now(), lease_owner="",
            lease_expires_at=None, eta_seconds=None,
            **({"progress": 1.0} if status == Search.SUCCEEDED or self.completed else {}),
        )
        if not updated:
            logger.warning("search %s: lease taken over before it could finish", self.search.pk)
            return None
        self.sink.lease_owner = None  # the row is final and ours to close: no lease any more
        best = Search.objects.filter(pk=self.search.pk).values_list("best", flat=True).get()
        best_payload = None
        if best:
            best_payload = {"architecture": best.get("architecture"), "reward": best.get("reward")}
        Emitter(self.sink, last_seq=self.sink.last_seq).emit("finished", status=status, message=message,
                                                             best=best_payload)
        logger.info("search %s %s: %s", self.search.pk, status, message)
        return status
