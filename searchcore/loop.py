"""The search loop: controller and child (shared weights or table) taking turns, with resume.

``run_search(config, out_dir)`` drives one search. An epoch is, for an evaluator that trains
weights (``shared``), one pass of supernet training with a controller-sampled architecture per
minibatch followed by ``controller_steps_per_epoch`` controller updates (ENAS); for ``benchmark``
it is just the controller updates. After the budget is used up, ``derive`` samples
``derive_samples`` architectures (plus the greedy one and the best seen), scores each on the whole
validation split (or the table) and keeps the best.

``SearchLoop.run`` wraps the work NNI-style: a failure emits ``finished``/``failed`` and re-raises,
a cancel (``should_stop()``) or Ctrl-C emits ``finished``/``cancelled``, and the loop always closes.

Resume: ``out_dir/checkpoint.pt`` is written atomically after every epoch (and when the search
phase ends). Re-running with the same ``out_dir`` and config loads it, cuts ``events.jsonl`` (and
the external sink, via ``truncate_after``) back to the checkpoint's ``last_seq`` and continues with
the next epoch. Work done after the last checkpoint is redone; its wall time is not counted.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from searchcore._loop_result import SearchResult, read_result, write_result
from searchcore._loop_setup import SearchParts, SearchSetupError, build_parts
from searchcore._loop_state import CHECKPOINT_VERSION, LoopState, check_same_config, check_version
from searchcore.budget import Budget
from searchcore.checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state
from searchcore.config import SearchConfig
from searchcore.device import resolve_device, seed_everything
from searchcore.events import Emitter, EventSink, FanoutSink, JsonlSink

logger = logging.getLogger(__name__)

PROGRESS_EVERY_S = 1.0  # a progress event at most this often while polled (and after every epoch)
CHECKPOINT_NAME = "checkpoint.pt"
EVENTS_NAME = "events.jsonl"
RESULT_NAME = "result.json"


class SearchCancelled(Exception):
    """Raised inside the loop when ``should_stop()`` asks to stop."""


def run_search(config: SearchConfig, out_dir: str | os.PathLike[str], *, sink: EventSink | None = None,
               should_stop: Callable[[], bool] | None = None,
               on_checkpoint: Callable[[int], None] | None = None,
               emit_finished: bool = True) -> SearchResult:
    """Run (or resume, or return the stored result of) the search ``config`` in ``out_dir``.

    ``emit_finished=False``: the caller continues the same event stream (final training) and emits
    ``finished`` itself; the loop then ends with a ``status`` event ``search_ended`` instead.
    """
    loop = SearchLoop(config, Path(out_dir), sink=sink, should_stop=should_stop,
                      on_checkpoint=on_checkpoint, emit_finished=emit_finished)
    return loop.run()


class SearchLoop:
    def __init__(self, config: SearchConfig, out_dir: Path, *, sink: EventSink | None = None,
                 should_stop: Callable[[], bool] | None = None,
                 on_checkpoint: Callable[[int], None] | None = None, emit_finished: bool = True) -> None:
        self.config = config
        self.out_dir = out_dir
        self.sink = sink
        self.user_should_stop = should_stop or (lambda: False)
        self.on_checkpoint = on_checkpoint
        self.emit_finished = emit_finished
        self.jsonl = JsonlSink(out_dir / EVENTS_NAME)
        self.emitter = Emitter(FanoutSink(self.jsonl, sink) if sink is not None else self.jsonl)
        self.budget = Budget(config.budget_seconds, config.max_archs, config.max_epochs)
        self.state = LoopState()
        self.parts: SearchParts | None = None
        self.generator: torch.Generator | None = None
        self.phase = "setup"
        self._epoch_frac = 0.0  # progress inside the current epoch, 0..1
        self._stop_reason: str | None = None  # "cancelled" | "budget"
        self._last_progress = 0.0

    # -- lifecycle ------------------------------------------------------------------------------
    def run(self) -> SearchResult:
        stored = self._stored_result()
        if stored is not None:
            logger.info("search in %s already succeeded; returning the stored result", self.out_dir)
            return stored
        checkpoint = self._read_checkpoint()  # a mismatch raises before anything is touched
        self._rewind_events(checkpoint)
        try:
            self.setup(checkpoint)
            self.search()
            self.derive()
            return self._finish("succeeded", "search finished: budget reached")
        except SearchCancelled:
            return self._finish("cancelled", "search cancelled")
        except KeyboardInterrupt:
            self._finish("cancelled", "search interrupted")
            raise
        except Exception as exc:
            self._fail(exc)
            raise
        finally:
            self.close()

    def setup(self, checkpoint: dict[str, Any] | None) -> None:
        try:
            device = resolve_device(self.config.device)
        except ValueError as exc:
            raise SearchSetupError(str(exc)) from exc
        self.generator = seed_everything(self.config.seed)
        self.parts = build_parts(self.config, device, should_stop=self._poll, on_step=self._on_train_step,
                                 budget_fraction=self._fraction)
        if checkpoint is not None:
            self.resume(checkpoint)
            # ``resumed_after``: events after that seq were dropped and are emitted again, so a
            # viewer that saw the old ones knows to replay (see the web app's live page)
            self._status("running", f"resumed after epoch {self.state.epoch}",
                         resumed_after=int(checkpoint["last_seq"]))
        else:
            self.budget.restart_clock(0.0)
            self._status("running", f"search started on {device.type}")

    def close(self) -> None:
        self.parts = None
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    # -- phases ---------------------------------------------------------------------------------
    def search(self) -> None:
        while not self.state.search_done:
            if self._budget_used():
                self.state.search_done = True
                self.checkpoint()
                break
            complete = self.run_epoch()
            if self._stop_reason == "cancelled":
                raise SearchCancelled
            self.state.epoch += 1
            self._epoch_frac = 0.0
            self.state.search_done = not complete or self._budget_used()
            self._progress(force=True)
            self.checkpoint()

    def run_epoch(self) -> bool:
        """One epoch; False when the budget or a cancel cut it short."""
        self._epoch_frac = 0.0
        stats = self.train_weights_epoch() if self.parts.evaluator.trains_weights else None
        if self._stop_reason is not None:
            return False
        rewards = self.train_controller()
        if stats is not None:
            mean_reward = sum(rewards) / len(rewards) if rewards else None
            self.emitter.emit("child_train", epoch=self.state.epoch + 1, loss=stats.loss,
                              accuracy=stats.accuracy, valid_accuracy=mean_reward)
        return self._stop_reason is None

    def train_weights_epoch(self) -> Any:
        parts = self.parts

        def sample_arch() -> Any:
            with torch.no_grad():
                values = parts.controller.sample(1)[0]
            return parts.space.from_decisions(values)

        return parts.evaluator.train_epoch(sample_arch)

    def train_controller(self) -> list[float]:
        """``controller_steps_per_epoch`` policy updates, each on one sampled architecture."""
        parts, rewards = self.parts, []
        steps = self.config.controller_steps_per_epoch
        for i in range(steps):
            if self._poll():
                break
            arch = parts.space.from_decisions(parts.controller.sample(1)[0])
            reward = float(parts.evaluator.reward(arch))
            stats = parts.controller.update([reward])
            self.state.step += 1
            self._record(arch, reward)
            # the count rides along so a viewer's counter keeps pace with the reward chart
            self.emitter.emit("controller_step", step=self.state.step, archs_evaluated=self._archs_used(),
                              **stats.to_dict())
            rewards.append(reward)
            self._set_epoch_frac(self._controller_share(i + 1, steps))
            if self.state.step == 1:
                self._progress(force=True)  # the progress card comes alive with the charts' first point
        return rewards

    def derive(self) -> None:
        """Score sampled, greedy and best-seen architectures on the whole validation split."""
        parts = self.parts
        self._status("deriving", "scoring candidate architectures on the whole validation split")
        candidates = self._derive_candidates()
        best_json, best_reward = None, None
        for arch in candidates:
            if self.user_should_stop():
                raise SearchCancelled
            reward = float(parts.evaluator.reward(arch, full=True))
            if best_reward is None or reward > best_reward:
                best_json, best_reward = parts.space.arch_to_json(arch), reward
        self.state.best_arch, self.state.best_reward = best_json, best_reward
        arch = parts.space.arch_from_json(best_json)
        self.emitter.emit("best", step=self.state.step, architecture=best_json, reward=best_reward,
                          graph=parts.space.graph(arch), derived=True)

    def _derive_candidates(self) -> list[Any]:
        parts, seen, out = self.parts, set(), []
        with torch.no_grad():
            values = parts.controller.sample(self.config.derive_samples) + [parts.controller.greedy()]
        archs = [parts.space.from_decisions(v) for v in values]
        if self.state.best_arch is not None:
            archs.append(parts.space.arch_from_json(self.state.best_arch))
        for arch in archs:
            key = json.dumps(parts.space.arch_to_json(arch), sort_keys=True)
            if key not in seen:
                seen.add(key)
                out.append(arch)
        return out

    # -- checkpoint / resume ----------------------------------------------------------------------
    def checkpoint(self) -> None:
        parts = self.parts
        state = {
            "version": CHECKPOINT_VERSION,
            "config": self.config.to_dict(),
            "loop": self.state.to_state(),
            "elapsed": self.budget.elapsed(),
            "last_seq": self.emitter.last_seq,
            "controller": parts.controller.state_dict(),
            "evaluator": parts.evaluator.state_dict(),
            "rng": rng_state(),
            "generator": self.generator.get_state(),
        }
        save_checkpoint(self.out_dir / CHECKPOINT_NAME, state)
        if self.on_checkpoint is not None:
            self.on_checkpoint(self.emitter.last_seq)

    def resume(self, checkpoint: dict[str, Any]) -> None:
        parts = self.parts
        self.state = LoopState.from_state(checkpoint["loop"])
        parts.controller.load_state_dict(checkpoint["controller"])
        parts.evaluator.load_state_dict(checkpoint["evaluator"])
        set_rng_state(checkpoint["rng"])
        self.generator.set_state(checkpoint["generator"])
        self.budget.restart_clock(float(checkpoint["elapsed"]))
        logger.info("resumed %s after epoch %s (step %s)", self.out_dir, self.state.epoch, self.state.step)

    def _read_checkpoint(self) -> dict[str, Any] | None:
        path = self.out_dir / CHECKPOINT_NAME
        if not path.exists():
            return None
        state = load_checkpoint(path)
        check_version(state, str(self.out_dir))
        check_same_config(state["config"], self.config.to_dict(), str(self.out_dir))
        return state

    def _rewind_events(self, checkpoint: dict[str, Any] | None) -> None:
        last_seq = int(checkpoint["last_seq"]) if checkpoint is not None else 0
        if self.jsonl.path.exists():
            self.jsonl.truncate_after(last_seq)
        truncate = getattr(self.sink, "truncate_after", None)
        if callable(truncate):
            truncate(last_seq)
        self.emitter.last_seq = last_seq
        (self.out_dir / RESULT_NAME).unlink(missing_ok=True)

    def _stored_result(self) -> SearchResult | None:
        result = read_result(self.out_dir / RESULT_NAME)
        if result is None or result.status != "succeeded":
            return None
        check_same_config(result.config, self.config.to_dict(), str(self.out_dir))
        return result

    # -- budget, progress, events -------------------------------------------------------------
    def _poll(self) -> bool:
        """Between minibatches/steps: cancel or budget? Also emits throttled progress."""
        if self._stop_reason is None:
            if self.user_should_stop():
                self._stop_reason = "cancelled"
            elif self._budget_used():
                self._stop_reason = "budget"
        self._progress()
        return self._stop_reason is not None

    def _budget_used(self) -> bool:
        return self.budget.exhausted(self.state.epoch + self._epoch_frac, self._archs_used())

    def _archs_used(self) -> int:
        """Architectures evaluated, as the ``max_archs`` budget counts them (and as every event and
        the result report them): distinct ones for ``benchmark``, controller samples otherwise."""
        return self.state.step if self.parts.evaluator.trains_weights else len(self.state.distinct)

    def _fraction(self) -> float:
        if self.parts is None:
            return 0.0
        return self.budget.fraction(self.state.epoch + self._epoch_frac, self._archs_used())

    def _on_train_step(self, done: int, total: int) -> None:
        self._set_epoch_frac((done / max(total, 1)) * self._train_share())

    def _train_share(self) -> float:
        train = self.parts.evaluator.steps_per_epoch()
        return train / max(train + self.config.controller_steps_per_epoch, 1)

    def _controller_share(self, done: int, total: int) -> float:
        share = self._train_share() if self.parts.evaluator.trains_weights else 0.0
        return share + (1.0 - share) * done / max(total, 1)

    def _set_epoch_frac(self, frac: float) -> None:
        self._epoch_frac = min(frac, 1.0)

    def _progress(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_progress < PROGRESS_EVERY_S:
            return
        self._last_progress = now
        fraction = self._fraction()
        eta = self.budget.eta(fraction)
        self.emitter.emit("progress", phase=self.phase, fraction=round(fraction, 4),
                          eta_seconds=None if eta is None else round(eta, 1), epoch=self.state.epoch,
                          archs_evaluated=self._archs_used(),
                          elapsed_seconds=round(self.budget.elapsed(), 2))

    def _record(self, arch: Any, reward: float) -> None:
        space = self.parts.space
        arch_json = space.arch_to_json(arch)
        graph = space.graph(arch)
        payload = {"step": self.state.step, "architecture": arch_json, "reward": reward, "graph": graph}
        self.emitter.emit("arch_sampled", **payload)
        if self.state.record(arch_json, reward):
            self.emitter.emit("best", **payload)

    def _status(self, status: str, message: str, **extra: Any) -> None:
        self.phase = status if status != "running" else "searching"
        self.emitter.emit("status", status=status, message=message, **extra)

    # -- endings ----------------------------------------------------------------------------------
    def _result(self, status: str, message: str) -> SearchResult:
        return SearchResult(space=self.config.space, best_arch=self.state.best_arch,
                            best_reward=self.state.best_reward, status=status, epochs=self.state.epoch,
                            archs_evaluated=self._archs_used() if self.parts is not None else 0,
                            elapsed_seconds=self.budget.elapsed(),
                            last_seq=self.emitter.last_seq, message=message, config=self.config.to_dict())

    def _finish(self, status: str, message: str) -> SearchResult:
        result = self._result(status, message)
        best = result.to_dict()["best"]
        if self.emit_finished:
            self.emitter.emit("finished", status=status, message=message, best=best)
        else:
            self.emitter.emit("status", status="search_ended", message=message, search_status=status,
                              best=best)
        result = self._result(status, message)  # last_seq now includes the closing event
        write_result(self.out_dir / RESULT_NAME, result.to_dict())
        logger.info("search %s: %s (best %s)", status, self.out_dir, result.best_reward)
        return result

    def _fail(self, exc: Exception) -> None:
        message = str(exc) if isinstance(exc, SearchSetupError) else f"{type(exc).__name__}: {exc}"
        try:
            if self.emit_finished:
                self.emitter.emit("finished", status="failed", message=message, best=None)
            else:
                self.emitter.emit("log", level="error", message=message)
            write_result(self.out_dir / RESULT_NAME, self._result("failed", message).to_dict())
        except Exception:  # never hide the original error behind a reporting error
            logger.exception("could not record the failure of %s", self.out_dir)


__all__ = ["SearchCancelled", "SearchLoop", "SearchResult", "SearchSetupError", "run_search"]
