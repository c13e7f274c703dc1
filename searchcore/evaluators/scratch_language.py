"""A ``scratch`` child on a language task: a recurrent language model trained on its own (NAS-RL's
PTB protocol, Zoph & Le 2017 §4.2) with the final trainer's epoch loop.

Training is ``training.language_loop.LanguageLoop``: truncated BPTT over ``seq_len``-token windows
of the train stream cut into ``batch_size`` columns, the state carried between windows, plain SGD
with a cosine schedule over the child's epochs (or its seconds), gradient norm clipped at
``GRAD_CLIP`` (ENAS' 0.25). After each epoch it reads the first ``VALID_TOKENS`` of the validation
stream with ``EVAL_BATCH`` columns, as final training does.

Reward: ``REWARD_C / valid_ppl`` (``c = 80``, the ``shared`` language evaluator's, so the two
evaluators' rewards compare), ``valid_ppl`` the best validation perplexity of the child's last
``last_epochs`` epochs (NAS-RL's "best of the last 5 epochs"; the paper's PTB reward divides by the
perplexity squared, ENAS' by the perplexity). A child that diverged (a NaN perplexity) scores as
the largest perplexity ``training.lm`` reports, a reward of about 0, rather than poisoning the
controller's update with NaN.

The learning rate and weight decay a language search leaves open are ENAS' and AWD-LSTM's
(``LR``, ``WEIGHT_DECAY``): the image child's SGD settings (lr 0.05 with momentum) barely move a
language model without momentum.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import torch

from searchcore.data.text import batchify
from searchcore.evaluators.shared_language import REWARD_C
from searchcore.events import Emitter
from searchcore.training.language import EVAL_BATCH, VALID_TOKENS
from searchcore.training.language_loop import LanguageLoop
from searchcore.training.lm import MAX_LOG_PPL, windows
from searchcore.training.loop import LoopOutcome, LoopSettings

LR = 20.0  # ENAS' PTB learning rate (plain SGD)
WEIGHT_DECAY = 1.2e-6  # AWD-LSTM's, as the language final trainer
GRAD_CLIP = 0.25  # ENAS
WORST_PERPLEXITY = math.exp(MAX_LOG_PPL)


def train_language_child(model: torch.nn.Module, data: Any, settings: Any, device: torch.device,
                         emitter: Emitter, should_stop: Callable[[], bool]) -> LoopOutcome:
    """Train ``model`` (``run_state(x, hidden)``) as ``settings`` (a ``ChildSettings``) say."""
    if not callable(getattr(model, "run_state", None)):
        raise ValueError(f"{type(model).__name__} has no run_state(x, hidden): not a language model")
    generator = torch.Generator().manual_seed(settings.seed)
    train = windows(_columns(data.train, settings.batch_size, "train", device), data.seq_len)
    valid = windows(_columns(data.valid, EVAL_BATCH, "valid", device), data.seq_len)
    valid = valid[:max(1, VALID_TOKENS // (EVAL_BATCH * data.seq_len))]
    deadline = None if settings.seconds is None else time.monotonic() + settings.seconds
    loop_settings = LoopSettings(lr=settings.lr, epochs=settings.epochs, deadline=deadline, drop_path=0.0,
                                 cutout=0, aux_weight=0.0, label_smoothing=0.0, grad_clip=GRAD_CLIP,
                                 weight_decay=settings.weight_decay, autocast=device.type == "cuda")
    return LanguageLoop(model, train, valid, loop_settings, emitter, should_stop, generator).run()


def language_metrics(outcome: LoopOutcome, last_epochs: int) -> dict[str, float]:
    """``reward`` (``REWARD_C / valid_perplexity``), the best ``valid_perplexity`` of the last
    ``last_epochs`` epochs and that epoch's next-word ``valid_accuracy``."""
    rows = [row for row in outcome.history[-last_epochs:] if row.get("valid_perplexity") is not None]
    if not rows:
        raise ValueError("the scratch child was not validated: the corpus has no validation tokens")
    best = min(rows, key=lambda row: _finite_perplexity(row["valid_perplexity"]))
    ppl = _finite_perplexity(best["valid_perplexity"])
    return {"reward": REWARD_C / ppl, "valid_perplexity": ppl,
            "valid_accuracy": float(best.get("valid_accuracy") or 0.0)}


def _finite_perplexity(value: float) -> float:
    return float(value) if math.isfinite(value) else WORST_PERPLEXITY


def _columns(ids: torch.Tensor, columns: int, name: str, device: torch.device) -> torch.Tensor:
    """The split as ``(rows, columns)``, fewer columns when it is tiny (at least 2 rows)."""
    if ids.numel() < 2:
        raise ValueError(f"the {name} split has {ids.numel()} token(s); a language model needs at least 2")
    return batchify(ids, max(1, min(int(columns), ids.numel() // 2))).to(device)


__all__ = ["GRAD_CLIP", "LR", "WEIGHT_DECAY", "language_metrics", "train_language_child"]
