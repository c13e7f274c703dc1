"""The epoch loop of a word-level language model: ``FinalLoop``'s budget, schedule and events over
truncated-BPTT windows, the hidden state carried from window to window, the best weights by
validation perplexity.

The optimiser is plain SGD (no momentum), as ENAS and pytorch/examples ``word_language_model``
train their language models; the cosine schedule, the time budget (epochs re-planned from measured
epoch times), cancellation and progress events are ``FinalLoop``'s. Each history row adds
``perplexity`` (train) and ``valid_perplexity``; the ``final_epoch`` event carries the next-word
accuracies (its fields are shared with images).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from searchcore.events import Emitter
from searchcore.training.lm import cpu_threads, lm_loss, perplexity, stream_metrics
from searchcore.training.loop import FinalLoop, LoopOutcome, LoopSettings
from searchcore.training.schedules import cosine_at, set_lr

Window = tuple[torch.Tensor, torch.Tensor]


class LanguageLoop(FinalLoop):
    """Trains a child with ``run_state(x, hidden) -> (logits, hidden)`` on ``train`` windows."""

    def __init__(self, model: nn.Module, train: list[Window], valid: list[Window], settings: LoopSettings,
                 emitter: Emitter, should_stop: Callable[[], bool], generator: torch.Generator) -> None:
        super().__init__(model, train, valid, len(train), settings, emitter, should_stop, generator)
        self.optimizer = torch.optim.SGD(model.parameters(), lr=settings.lr, momentum=0.0,
                                         weight_decay=settings.weight_decay)
        self.valid_perplexity: float | None = None
        self.best_perplexity: float | None = None

    def run(self) -> LoopOutcome:
        with cpu_threads(next(self.model.parameters()).device):  # see training.lm.CPU_THREADS
            return super().run()

    def train_epoch(self, epoch: int) -> tuple[float, float, float, int]:
        self.model.train()
        device = next(self.model.parameters()).device
        loss_sum = torch.zeros((), dtype=torch.float32, device=device)
        correct = torch.zeros((), dtype=torch.int64, device=device)
        seen, lr, hidden = 0, self.s.lr, None
        for x, y in self.train:
            if self._should_halt():
                break
            lr = cosine_at(self.s.lr, self.schedule_pos) if self.total_steps else self.s.lr
            set_lr(self.optimizer, lr)
            loss, logits, hidden = self._lm_step(x, y, hidden)
            self._advance_schedule()
            loss_sum += loss.detach() * y.numel()
            correct += (logits.argmax(-1) == y).sum()
            seen += y.numel()
            self.step += 1
            self._emit_progress(epoch + (self.step % self.steps_per_epoch) / self.steps_per_epoch)
        if not seen:
            return math.nan, 0.0, lr, 0
        return float(loss_sum) / seen, int(correct) / seen, lr, seen

    def _lm_step(self, x: torch.Tensor, y: torch.Tensor, hidden: torch.Tensor | None
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        with self._autocast():
            logits, hidden = self.model.run_state(x, hidden)
        loss = lm_loss(logits, y)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.s.grad_clip:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.s.grad_clip)
        self.optimizer.step()
        return loss, logits.detach(), hidden.detach()

    @torch.no_grad()
    def validate(self) -> float | None:
        """Next-word accuracy on the validation stream; its perplexity is kept for ``_record``."""
        self.model.eval()
        if not self.valid:
            self.valid_perplexity = None
            return None

        def run(x: torch.Tensor, hidden: torch.Tensor | None) -> Any:
            with self._autocast():
                return self.model.run_state(x, hidden)

        result = stream_metrics(run, self.valid)
        self.valid_perplexity = float(result["perplexity"])
        return float(result["accuracy"])

    def _event_extras(self) -> dict[str, Any]:
        return {"valid_perplexity": self.valid_perplexity}

    def _record(self, out: LoopOutcome, epoch: int, loss: float, acc: float, valid_acc: float | None,
                lr: float) -> None:
        """``FinalLoop._record``'s row and event; the best weights are those of the lowest perplexity."""
        best = out.best_state
        previous = (out.best_valid_accuracy, out.best_epoch)
        super()._record(out, epoch, loss, acc, valid_acc, lr)
        row = out.history[-1]
        row["perplexity"] = perplexity(loss) if math.isfinite(loss) else None
        row["valid_perplexity"] = self.valid_perplexity
        ppl = self.valid_perplexity
        if ppl is None or self.best_perplexity is None or ppl <= self.best_perplexity:
            self.best_perplexity = ppl
            out.best_valid_accuracy, out.best_epoch = valid_acc, epoch + 1
            out.best_state = {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}
        else:  # undo the accuracy-based choice of the base class
            out.best_state = best
            out.best_valid_accuracy, out.best_epoch = previous
