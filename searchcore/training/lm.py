"""Language-model arithmetic shared by the search (``evaluators.shared_language``) and final training
(``training.language``): BPTT windows over a batchified stream, the per-token loss, perplexity and
a whole-stream evaluation with the hidden state carried (as pytorch/examples ``word_language_model``).

A language network ``model`` here has ``run(x, hidden) -> (logits, hidden)`` given as a callable,
so the supernet (``run_arch(x, arch, h)``) and a child (``run_state(x, h)``) share the code.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

MAX_LOG_PPL = 50.0  # exp() of a diverged loss stays finite
Run = Callable[[torch.Tensor, "torch.Tensor | None"], tuple[torch.Tensor, torch.Tensor]]


def windows(stream: torch.Tensor, seq_len: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """``(input, target)`` windows of a batchified stream ``(rows, batch)``; the last may be shorter."""
    out = []
    for start in range(0, stream.size(0) - 1, seq_len):
        length = min(seq_len, stream.size(0) - 1 - start)
        out.append((stream[start:start + length], stream[start + 1:start + 1 + length]))
    return out


def lm_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy per token, computed in float32."""
    return F.cross_entropy(logits.float().reshape(-1, logits.size(-1)), target.reshape(-1))


def perplexity(mean_loss: float) -> float:
    return math.exp(min(mean_loss, MAX_LOG_PPL))


@torch.no_grad()
def stream_metrics(run: Run, parts: list[tuple[torch.Tensor, torch.Tensor]]) -> dict[str, float | int]:
    """Mean loss, perplexity and next-word accuracy over ``parts``, the state carried throughout."""
    total, correct, count, hidden = 0.0, 0, 0, None
    for x, y in parts:
        logits, hidden = run(x, hidden)
        total += float(lm_loss(logits, y)) * y.numel()
        correct += int((logits.argmax(-1) == y).sum())
        count += y.numel()
    loss = total / max(count, 1)
    return {"loss": loss, "perplexity": perplexity(loss), "accuracy": correct / max(count, 1),
            "tokens": count}


__all__ = ["MAX_LOG_PPL", "lm_loss", "perplexity", "stream_metrics", "windows"]
