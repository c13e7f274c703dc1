"""What both ``shared`` evaluators (images: ``shared.py``, language: ``shared_language.py``) do alike.

One supernet trained by SGD whose learning rate follows a cosine from ``lr`` to ``lr_min`` over the
fraction of the budget used (``budget_fraction()``, read at every step); a step clears the gradients
(``set_to_none``: operations off the sampled path keep ``None``, so no decay and no update reaches
them), clips their norm at ``grad_clip`` (0 or None: off) and counts itself in ``steps``. Rewards
are scored in process, when waited on (``should_stop`` checked between architectures), from the
next validation batch (``valid_cursor``) or the whole derive set (``full``). The checkpoint holds
``net``, ``optimizer``, ``steps`` and ``valid_cursor``; a subclass adds its own keys.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from searchcore.evaluators.base import Evaluator
from searchcore.evaluators.executor import Ticket
from searchcore.training.schedules import cosine_at, set_lr


class SharedWeightsEvaluator(Evaluator):
    """Subclasses set ``net``, ``optimizer``, ``lr``, ``lr_min``, ``grad_clip``, ``budget_fraction``,
    ``steps`` and ``valid_cursor`` in ``__init__`` and define ``_score(arch, full) -> reward``."""

    name = "shared"
    trains_weights = True
    needs_supernet = True

    net: nn.Module
    optimizer: torch.optim.Optimizer
    lr: float
    lr_min: float
    grad_clip: float | None
    budget_fraction: Callable[[], float]
    steps: int  # optimiser steps, over the whole search
    valid_cursor: int  # validation batches used for rewards

    def current_lr(self) -> float:
        return self.lr_min + cosine_at(self.lr - self.lr_min, float(self.budget_fraction()))

    def _sgd_step(self, forward: Callable[[], tuple[torch.Tensor, torch.Tensor]]
                  ) -> tuple[torch.Tensor, torch.Tensor]:
        """Set this step's learning rate, run ``forward() -> (loss, logits)``, then one clipped step."""
        set_lr(self.optimizer, self.current_lr())
        loss, logits = forward()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.grad_clip:
            nn.utils.clip_grad_norm_(self.net.parameters(), self.grad_clip)
        self.optimizer.step()
        self.steps += 1
        return loss, logits

    # -- rewards --------------------------------------------------------------------------------
    def submit(self, archs: Sequence[Any], full: bool = False) -> Ticket:
        return Ticket(size=len(archs), handle=(tuple(archs), full))

    def wait(self, ticket: Ticket, should_stop: Callable[[], bool]) -> list[float] | None:
        archs, full = ticket.handle
        rewards = []
        with self._scoring():
            for i, arch in enumerate(archs):
                if i and should_stop():
                    return None
                rewards.append(self._score(arch, full))
        return rewards

    def _scoring(self) -> contextlib.AbstractContextManager[Any]:
        """Entered around a batch of rewards (the language evaluator sets its CPU threads)."""
        return contextlib.nullcontext()

    def _score(self, arch: Any, full: bool) -> float:
        raise NotImplementedError

    # -- state ----------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {"net": self.net.state_dict(), "optimizer": self.optimizer.state_dict(), "steps": self.steps,
                "valid_cursor": self.valid_cursor}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.net.load_state_dict(state["net"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.steps = int(state["steps"])
        self.valid_cursor = int(state["valid_cursor"])


__all__ = ["SharedWeightsEvaluator"]
