"""Language-model arithmetic shared by the search (``evaluators.shared_language``) and final training
(``training.language``): BPTT windows over a batchified stream, the per-token loss, perplexity and
a whole-stream evaluation with the hidden state carried (as pytorch/examples ``word_language_model``).

A language network ``model`` here has ``run(x, hidden) -> (logits, hidden)`` given as a callable,
so the supernet (``run_arch(x, arch, h)``) and a child (``run_state(x, h)``) share the code.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator

import torch
import torch.nn.functional as F

MAX_LOG_PPL = 50.0  # exp() of a diverged loss stays finite
# Intra-op threads for language-model work on a CPU. A recurrent cell is ~1,000 small ops per window
# (35 steps x 12 nodes, forward and backward), where OpenMP's per-op synchronisation dominates when
# the cores are busy: one enas-rnn supernet step (hidden 200, vocabulary 10k, batch 64 x 35) took
# 0.7 s with 1 thread and 14.7 s with 2 on the shared 2-core box (load ~4); a batch-1 Linear(200, 400)
# 13 us vs 8 ms. Measured under load only: an idle many-core machine may gain from more threads.
CPU_THREADS = 1
Run = Callable[[torch.Tensor, "torch.Tensor | None"], tuple[torch.Tensor, torch.Tensor]]


@contextlib.contextmanager
def cpu_threads(device: torch.device, threads: int = CPU_THREADS) -> Iterator[None]:
    """Run the block with ``threads`` intra-op threads on a CPU device (restored afterwards)."""
    before = torch.get_num_threads()
    if device.type != "cpu" or before == threads:
        yield
        return
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


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
    """``exp(loss)``, capped at ``exp(MAX_LOG_PPL)``; a diverged (NaN or infinite) loss is the cap, so
    its reward ``c / ppl`` is about 0 instead of a NaN that would poison the controller's update."""
    if not math.isfinite(mean_loss):
        return math.exp(MAX_LOG_PPL)
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


def unigram_perplexity(train_ids: torch.Tensor, eval_ids: torch.Tensor, vocab_size: int) -> float:
    """Perplexity on ``eval_ids`` of the training split's word frequencies (add-one smoothed, so a
    word unseen in training costs log(train tokens + vocabulary), not infinity): what a model that
    learned nothing but how often each word occurs scores. Uniform guessing scores ``vocab_size``."""
    if eval_ids.numel() == 0:
        return float(vocab_size)
    counts = torch.bincount(train_ids.reshape(-1).cpu(), minlength=vocab_size).double() + 1.0
    log_p = counts.log() - counts.sum().log()
    return perplexity(float(-log_p[eval_ids.reshape(-1).cpu()].mean()))


__all__ = ["CPU_THREADS", "MAX_LOG_PPL", "cpu_threads", "lm_loss", "perplexity", "stream_metrics",
           "unigram_perplexity", "windows"]
