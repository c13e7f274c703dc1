"""The search loop: controller and child (shared weights or table) taking turns, with resume.

``run_search(config, out_dir)`` drives one search. An epoch is, for an evaluator that trains
weights (``shared``), one pass of supernet training with a controller-sampled architecture per
minibatch followed by ``controller_steps_per_epoch`` controller updates (ENAS); for ``benchmark``
it is just the controller updates; with ``controller_schedule="interleaved"`` (the default) the
controller steps are spread over the epoch's training steps instead (``searchcore.search.schedule``).
A controller step samples ``archs_per_step`` architectures
(``SearchConfig.archs_per_step``, default the evaluator's ``suggested_samples_per_update``), submits
them to the evaluator, waits for their rewards (polling cancel and budget) and updates the
controller once on the batch; the last step of a ``max_archs`` budget samples no more than the
budget has left, so the count never overshoots. After the budget is used up, ``derive`` samples
``derive_samples`` architectures (plus the greedy one and the best seen), scores each on the whole
validation split (or the table) and keeps the best. Derive's time is measured while searching and
reserved inside a time budget (fewer samples are scored when less time is left).

``SearchLoop.run`` wraps the work NNI-style: a failure emits ``finished``/``failed`` and re-raises,
a cancel (``should_stop()``) or Ctrl-C emits ``finished``/``cancelled``, and the loop always closes.
A pause (``should_pause()``: the worker is shutting down) stops at the next step boundary like a
cancel but ends nothing: it checkpoints where a resume can continue, emits no closing event and
writes no ``result.json``, and returns a result with status ``paused``; the next run resumes.

Resume: ``out_dir/checkpoint.pt`` is written atomically after every epoch (and when the search
phase ends). Re-running with the same ``out_dir`` and config loads it, cuts ``events.jsonl`` (and
the external sink, via ``truncate_after``) back to the checkpoint's ``last_seq`` and continues with
the next epoch. Work done after the last checkpoint is redone; its wall time is not counted.
An evaluator that trains no weights (``benchmark``, ``scratch``, whose children take minutes) is
also checkpointed between controller steps once ``STEP_CHECKPOINT_S`` have passed since the last
checkpoint; a resume then continues that epoch after its last checkpointed step.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from searchcore.config import SearchConfig
from searchcore.device import resolve_device, seed_everything
from searchcore.evaluators import Executor
from searchcore.events import Emitter, EventSink, FanoutSink, JsonlSink
from searchcore.search.budget import Budget
from searchcore.search.cost import LatencyReward, latency_reward, shape_rewards
from searchcore.search.derive import derive_phase
from searchcore.search.endings import fail, finish, search_result
from searchcore.search.progress import PROGRESS_EVERY_S, LoopProgress, epoch_fraction
from searchcore.search.result import SearchResult
from searchcore.search.resume import (
    read_checkpoint,
    read_success,
    restore_checkpoint,
    rewind_events,
    write_checkpoint,
)
from searchcore.search.schedule import DeriveReserve, controller_steps_due
from searchcore.search.setup import SearchParts, SearchSetupError, build_parts
from searchcore.search.state import LoopState, arch_key
from searchcore.search.store import CHECKPOINT_NAME, EVENTS_NAME, RESULT_NAME

logger = logging.getLogger(__name__)

STEP_CHECKPOINT_S = 30.0  # a checkpoint between controller steps after this long (no weight training)


class SearchCancelled(Exception):
    """Raised inside the loop when ``should_stop()`` asks to stop."""


def run_search(config: SearchConfig, out_dir: str | os.PathLike[str], *, sink: EventSink | None = None,
               should_stop: Callable[[], bool] | None = None,
               on_checkpoint: Callable[[int], None] | None = None,
               emit_finished: bool = True, executor: Executor | None = None,
               should_pause: Callable[[], bool] | None = None,
               wall_clock_cap: float | None = None) -> SearchResult:
    """Run (or resume, or return the stored result of) the search ``config`` in ``out_dir``.

    ``emit_finished=False``: the caller continues the same event stream (final training) and emits
    ``finished`` itself; the loop then ends with a ``status`` event ``search_ended`` instead.
    ``executor``: where the evaluator runs its jobs (default: in this process).
    ``should_pause``: stop at the next step boundary without ending the search (see the module doc).
    ``wall_clock_cap``: seconds after which the search phase ends as if its budget were used up,
    whatever the budget says (``Budget.ceiling_seconds``; the worker passes the service's cap).
    """
    loop = SearchLoop(config, Path(out_dir), sink=sink, should_stop=should_stop,
                      on_checkpoint=on_checkpoint, emit_finished=emit_finished, executor=executor,
                      should_pause=should_pause, wall_clock_cap=wall_clock_cap)
    return loop.run()


class SearchLoop:
    def __init__(self, config: SearchConfig, out_dir: Path, *, sink: EventSink | None = None,
                 should_stop: Callable[[], bool] | None = None,
                 on_checkpoint: Callable[[int], None] | None = None, emit_finished: bool = True,
                 executor: Executor | None = None, should_pause: Callable[[], bool] | None = None,
                 wall_clock_cap: float | None = None) -> None:
        self.config = config
        self.executor = executor
        self.out_dir = out_dir
        self.sink = sink
        self.should_cancel = should_stop or (lambda: False)
        self.should_pause = should_pause or (lambda: False)
        self.paused = False  # a pause was asked for: stop, but end nothing
        self.on_checkpoint = on_checkpoint
        self.emit_finished = emit_finished
        self.jsonl = JsonlSink(out_dir / EVENTS_NAME)
        self.emitter = Emitter(FanoutSink(self.jsonl, sink) if sink is not None else self.jsonl)
        self.budget = Budget(config.budget_seconds, config.max_archs, config.max_epochs,
                             ceiling_seconds=wall_clock_cap)
        self.state = LoopState()
        self.reserve = DeriveReserve(self.budget, config.derive_samples)  # derive's time within the budget
        self.plan_seconds = 0.0  # spent measuring step costs for the plan (counted in the budget)
        self.epoch_rewards: list[float] = []  # controller rewards of the current epoch
        self.epoch_steps = 0  # controller steps of the current epoch
        self.train_done = 0  # training steps of the current epoch
        self.batch_frac = 0.0  # share of the controller step's batch scored so far (``on_score``)
        self.batch_new = 0  # architectures of that batch the budget will count as new
        self.last_checkpoint = time.monotonic()
        self.parts: SearchParts | None = None
        self.cost: LatencyReward | None = None  # the reward's latency term (``latency_target_ms``)
        self.generator: torch.Generator | None = None
        self.progress = LoopProgress(self.budget, self.emitter, should_stop=self.user_should_stop,
                                     position=self._position)

    # -- lifecycle ------------------------------------------------------------------------------
    def run(self) -> SearchResult:
        config_dict, where = self.config.to_dict(), str(self.out_dir)
        stored = read_success(self.out_dir / RESULT_NAME, config_dict, where)
        if stored is not None:
            logger.info("search in %s already succeeded; returning the stored result", self.out_dir)
            return stored
        # a checkpoint of another version or config raises before anything is touched
        checkpoint = read_checkpoint(self.out_dir / CHECKPOINT_NAME, config_dict, where)
        self.emitter.last_seq = rewind_events(self.jsonl, self.sink, checkpoint)
        (self.out_dir / RESULT_NAME).unlink(missing_ok=True)
        try:
            self.setup(checkpoint)
            self.search()
            self.derive()
            return finish(self, "succeeded", "search finished: budget reached")
        except SearchCancelled:
            if self.paused:
                return self.pause()
            return finish(self, "cancelled", "search cancelled")
        except KeyboardInterrupt:
            finish(self, "cancelled", "search interrupted")
            raise
        except Exception as exc:
            fail(self, exc)
            raise
        finally:
            self.close()

    def setup(self, checkpoint: dict[str, Any] | None) -> None:
        try:
            device = resolve_device(self.config.device)
        except ValueError as exc:
            raise SearchSetupError(str(exc)) from exc
        self.generator = seed_everything(self.config.seed)
        self.parts = build_parts(self.config, device, should_stop=self.progress.poll,
                                 on_step=self._on_train_step, budget_fraction=self.progress.fraction,
                                 executor=self.executor, on_score=self._on_score,
                                 plan=lambda config, data: self._plan(config, data, device))
        attach = getattr(self.executor, "attach_emitter", None)  # an executor that reports its jobs (Celery)
        if attach is not None:
            attach(self.emitter)
        cap = self.parts.evaluator.max_derive_samples  # e.g. scratch: its rewards are full scores already
        if cap is not None:
            self.reserve.derive_samples = min(self.config.derive_samples, cap)
        self.cost = latency_reward(self.config, self.parts.data, device)
        if checkpoint is not None:
            self.resume(checkpoint)
            # ``resumed_after``: events after that seq were dropped and are emitted again, so a
            # viewer that saw the old ones knows to replay (see the web app's live page)
            self._status("running", f"resumed after epoch {self.state.epoch}",
                         resumed_after=int(checkpoint["last_seq"]))
        else:
            self.budget.restart_clock(self.plan_seconds)  # measuring for the plan is part of the budget
            self._status("running", f"search started on {device.type}")

    def _plan(self, config: SearchConfig, data: Any, device: torch.device) -> SearchConfig:
        """The budget planner's proxy (``searchcore.planning``), announced with a ``plan`` event."""
        from searchcore.planning.apply import plan_for_run

        config, self.plan_seconds = plan_for_run(config, data, device.type, self.out_dir, self.emitter)
        return config

    def user_should_stop(self) -> bool:
        """Cancel or pause; a pause is remembered, so every phase's poll stops the same way."""
        if not self.paused and self.should_pause():
            self.paused = True
        return self.paused or bool(self.should_cancel())

    def pause(self) -> SearchResult:
        """End this run without ending the search. An evaluator that trains no weights checkpoints
        between controller steps (the dropped batch is redone); a weight-training one resumes from
        its last epoch checkpoint (its epoch cannot be continued midway)."""
        parts = self.parts
        if parts is not None and not self.state.search_done and not parts.evaluator.trains_weights:
            self.state.epoch_steps = self.epoch_steps
            self.checkpoint()
        logger.info("search paused in %s at epoch %s, step %s", self.out_dir, self.state.epoch,
                    self.state.step)
        return search_result(self, "paused", "search paused; the next run resumes from its checkpoint")

    def close(self) -> None:
        self.parts = None
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    # -- phases ---------------------------------------------------------------------------------
    def search(self) -> None:
        progress = self.progress
        while not self.state.search_done:
            if progress.budget_used():
                self.state.search_done = True
                self.checkpoint()
                break
            complete = self.run_epoch()
            if progress.stop_reason == "cancelled":
                raise SearchCancelled
            self.state.epoch += 1
            self.state.epoch_steps = 0
            progress.epoch_frac = 0.0
            self.state.search_done = not complete or progress.budget_used()
            progress.emit(force=True)
            self.checkpoint()

    def run_epoch(self) -> bool:
        """One epoch; False when the budget or a cancel cut it short."""
        self.progress.epoch_frac = 0.0
        # a resume between controller steps continues its epoch (``state.epoch_steps``, else 0)
        self.epoch_rewards, self.epoch_steps, self.train_done = [], self.state.epoch_steps, 0
        self._update_epoch_frac()
        stats = self.train_weights_epoch() if self.parts.evaluator.trains_weights else None
        if self.progress.stop_reason is not None:
            return False
        self.train_controller()
        rewards = self.epoch_rewards
        if stats is not None:
            mean_reward = sum(rewards) / len(rewards) if rewards else None
            self.emitter.emit("child_train", epoch=self.state.epoch + 1, loss=stats.loss,
                              accuracy=stats.accuracy, valid_accuracy=mean_reward, **stats.extras)
        return self.progress.stop_reason is None

    def train_weights_epoch(self) -> Any:
        parts = self.parts

        def sample_arch() -> Any:
            with torch.no_grad():
                values = parts.controller.sample(1)[0]
            return parts.space.from_decisions(values)

        return parts.evaluator.train_epoch(sample_arch)

    def train_controller(self, upto: int | None = None) -> None:
        """Policy updates, each on a batch of sampled architectures, until ``upto`` of the epoch's
        ``controller_steps_per_epoch`` have run (all of them by default); rewards go to
        ``epoch_rewards``."""
        upto = self.config.controller_steps_per_epoch if upto is None else upto
        while self.epoch_steps < upto:
            if self.progress.poll():
                break
            batch = self.controller_step()
            if batch is None:
                break
            self.epoch_steps += 1
            self.epoch_rewards.extend(batch)
            self._update_epoch_frac()
            if self.state.step == 1:
                self.progress.emit(force=True)  # the progress card comes alive with the charts' first point
            self._checkpoint_between_steps()

    def _checkpoint_between_steps(self) -> None:
        """An evaluator that trains no weights has nothing mid-epoch that a checkpoint would miss:
        with long controller steps (scratch children), keep at most ``STEP_CHECKPOINT_S`` of them to redo."""
        if self.parts.evaluator.trains_weights or time.monotonic() - self.last_checkpoint < STEP_CHECKPOINT_S:
            return
        if self.epoch_steps < self.config.controller_steps_per_epoch:  # the epoch's end checkpoints anyway
            self.state.epoch_steps = self.epoch_steps
            self.checkpoint()

    def _interleaved(self) -> bool:
        return self.config.controller_schedule == "interleaved" and self.parts.evaluator.trains_weights

    def controller_step(self) -> list[float] | None:
        """Sample, submit, wait, update once; ``None`` when a stop came while waiting (the batch is
        dropped: nothing recorded, no update; a resume redoes it from the last checkpoint)."""
        parts = self.parts
        archs = [parts.space.from_decisions(v) for v in parts.controller.sample(self._step_size())]
        started = time.perf_counter()
        self.batch_new = self._new_in_budget(archs)
        try:
            rewards = parts.evaluator.wait(parts.evaluator.submit(archs), self.progress.poll)
        finally:
            self._on_score(0.0)  # the batch is scored (or dropped): its architectures are counted now
        if rewards is None:
            return None
        self.reserve.measured(time.perf_counter() - started, len(archs), parts.evaluator.full_score_batches())
        rewards, costs = shape_rewards(self.cost, archs, rewards)  # {accuracy, latency_ms} each, or {}
        stats = parts.controller.update(rewards)
        self.state.step += 1
        for arch, reward, cost in zip(archs, rewards, costs, strict=True):
            self._record(arch, reward, cost)
        # the count rides along so a viewer's counter keeps pace with the reward chart; the best so
        # far lets a reader (bench/nb201.py) follow quality per architecture evaluated
        self.emitter.emit("controller_step", step=self.state.step, archs_evaluated=self.archs_used(),
                          best_reward=self.state.best_reward, **stats.to_dict())
        return rewards

    def _step_size(self) -> int:
        """``archs_per_step``, cut to what a ``max_archs`` budget has left (each sample adds at most
        one to the count, distinct or not)."""
        n = self.parts.archs_per_step
        if self.budget.max_archs is not None:
            n = min(n, max(1, self.budget.max_archs - self.archs_used()))
        return n

    def _new_in_budget(self, archs: list[Any]) -> int:
        """How many of ``archs`` the ``max_archs`` count will add (``archs_used``)."""
        if self.parts.evaluator.trains_weights:
            return len(archs)
        keys = {arch_key(self.parts.space.arch_to_json(arch)) for arch in archs}
        return len(keys - self.state.distinct)

    def _on_score(self, fraction: float) -> None:
        """The evaluator's share of the batch scored so far: moves the progress between controller steps."""
        self.batch_frac = min(max(float(fraction), 0.0), 1.0)
        self.progress.archs_in_flight = self.batch_frac * self.batch_new
        if self.parts is not None and self.batch_new:  # derive's scoring moves no search counter
            self._update_epoch_frac()

    def derive(self) -> None:
        """Score sampled, greedy and best-seen architectures on the whole validation split."""
        self.batch_new = 0
        self._status("deriving", "scoring candidate architectures on the whole validation split")
        if not derive_phase(self):
            raise SearchCancelled

    # -- checkpoint / resume ----------------------------------------------------------------------
    def checkpoint(self) -> None:
        self.last_checkpoint = time.monotonic()
        write_checkpoint(self.out_dir / CHECKPOINT_NAME, config_dict=self.config.to_dict(), state=self.state,
                         budget=self.budget, last_seq=self.emitter.last_seq, parts=self.parts,
                         generator=self.generator, cost=self.cost)
        if self.on_checkpoint is not None:
            self.on_checkpoint(self.emitter.last_seq)

    def resume(self, checkpoint: dict[str, Any]) -> None:
        self.state = restore_checkpoint(checkpoint, parts=self.parts, generator=self.generator,
                                               budget=self.budget, cost=self.cost)
        logger.info("resumed %s after epoch %s (step %s)", self.out_dir, self.state.epoch, self.state.step)

    # -- budget position, events -------------------------------------------------------------
    def _position(self) -> tuple[int, int] | None:
        """(epochs finished, architectures evaluated) for ``LoopProgress``; None before setup."""
        return None if self.parts is None else (self.state.epoch, self.archs_used())

    def archs_used(self) -> int:
        """Architectures evaluated, as the ``max_archs`` budget counts them (and as every event and
        the result report them): distinct ones for ``benchmark``, controller samples otherwise."""
        return self.state.samples if self.parts.evaluator.trains_weights else len(self.state.distinct)

    def _on_train_step(self, done: int, total: int) -> None:
        self.train_done = done
        self._update_epoch_frac()
        if self._interleaved():
            self.train_controller(controller_steps_due(done, total, self.config.controller_steps_per_epoch))

    def _update_epoch_frac(self) -> None:
        """Training and controller steps of the epoch done, over all it has (either order)."""
        train_total = self.parts.evaluator.steps_per_epoch() if self.parts.evaluator.trains_weights else 0
        self.progress.set_epoch_frac(epoch_fraction(self.train_done, train_total,
                                                    self.epoch_steps + self.batch_frac,
                                                    self.config.controller_steps_per_epoch))

    def _record(self, arch: Any, reward: float, cost: dict[str, float] | None = None) -> None:
        space = self.parts.space
        arch_json = space.arch_to_json(arch)
        graph = space.graph(arch)
        payload = {"step": self.state.step, "architecture": arch_json, "reward": reward, "graph": graph,
                   **(cost or {})}
        self.emitter.emit("arch_sampled", **payload)
        reasons = space.degenerate_reasons(arch)  # a collapse shows on the live page as it happens
        if self.state.record(arch_json, reward, degenerate=bool(reasons)):
            self.emitter.emit("best", **payload, degenerate=reasons)

    def _status(self, status: str, message: str, **extra: Any) -> None:
        self.progress.phase = status if status != "running" else "searching"
        self.emitter.emit("status", status=status, message=message, **extra)


__all__ = ["PROGRESS_EVERY_S", "SearchCancelled", "SearchLoop", "SearchResult", "SearchSetupError",
           "run_search"]
