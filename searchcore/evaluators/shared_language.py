"""The ``shared`` evaluator on a language task: ENAS' recurrent-cell search (Pham et al. 2018, §3.1).

The train split is one token stream cut into ``batch_size`` columns (``data.text.batchify``) and
read in windows of ``seq_len`` tokens (truncated backpropagation through time); the hidden state is
carried from one window to the next (detached). Each window trains the supernet path of one
controller-sampled cell: plain SGD (ENAS: learning rate 20, gradient norm clipped at 0.25, no
momentum), the learning rate annealed by a cosine over the budget like the image path.

Reward: ``c / valid_ppl`` with ``c = 80`` (ENAS), the perplexity of the sampled cell on the next
validation window (windows cycled in a fixed, seeded order; each starts from a zero state, as
ENAS' ``valid_rl`` graph). ``full=True`` (derive) reads the first ``FULL_SCORE_WINDOWS`` windows of
the validation stream with the state carried (22,400 tokens at batch 64 and 35 steps): ENAS scores
derive's candidates on a single validation minibatch; ten are less noisy and, unlike the whole
stream (about 100 windows of WikiText-2, minutes per candidate on a CPU), keep derive's share of a
budget small. Dropout is off when scoring (``eval()``): the cells have no batch norm.

The schedule, the clipped SGD step, ``submit``/``wait`` and the checkpoint (``net``, ``optimizer``,
``steps``, ``valid_cursor``) are ``shared_base.SharedWeightsEvaluator``'s, as for images.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import torch

from searchcore.evaluators.base import EpochStats, EvaluatorContext
from searchcore.evaluators.shared_base import SharedWeightsEvaluator
from searchcore.spaces.base import LANGUAGE
from searchcore.training.lm import (
    cpu_threads,
    lm_loss,
    perplexity,
    stream_metrics,
    unigram_perplexity,
    windows,
)
from searchcore.training.lm_verdict import LEARNED_FRACTION, baseline_perplexity

REWARD_C = 80.0  # ENAS: reward = c / valid_ppl
FULL_SCORE_WINDOWS = 10  # a "full" score reads at most this many validation windows (see the docstring)
LANGUAGE_DEFAULTS = {"lr": 20.0, "lr_min": 0.0, "momentum": 0.0, "weight_decay": 1e-7, "grad_clip": 0.25}


class SharedLanguageEvaluator(SharedWeightsEvaluator):
    """Weight sharing over recurrent cells; built by the ``shared`` entry point for language spaces."""

    task_kinds = frozenset({LANGUAGE})

    def __init__(self, context: EvaluatorContext, *, batch_size: int | None = None, lr: float | None = None,
                 lr_min: float | None = None, momentum: float | None = None,
                 weight_decay: float | None = None, grad_clip: float | None = None, augment: bool = False,
                 amp: bool = True, channels_last: bool = False) -> None:
        from searchcore.data.text import batchify

        data = context.data
        if data is None or not hasattr(data, "corpus"):
            raise ValueError("the shared evaluator needs a text corpus for a language space")
        given = {"lr": lr, "lr_min": lr_min, "momentum": momentum, "weight_decay": weight_decay,
                 "grad_clip": grad_clip}
        o = {k: LANGUAGE_DEFAULTS[k] if v is None else v for k, v in given.items()}
        self.context, self.device = context, context.device
        self.lr, self.lr_min, self.grad_clip = float(o["lr"]), float(o["lr_min"]), o["grad_clip"]
        self.amp = amp and context.device.type == "cuda"
        self.budget_fraction = context.budget_fraction
        self.seq_len = int(data.seq_len)
        batch = int(batch_size or context.batch_size)
        try:
            self.train_stream = batchify(data.train, batch).to(self.device)
            valid_stream = batchify(data.valid, batch).to(self.device)
        except ValueError as exc:
            raise ValueError(f"the corpus is too small for batch_size {batch}: {exc}") from exc
        if self.train_stream.size(0) < 2 or valid_stream.size(0) < 2:
            raise ValueError(f"the corpus is too small for batch_size {batch}: "
                             "a split gives fewer than 2 rows")
        self.net = context.space.build_supernet(data.task()).to(self.device)
        self.optimizer = torch.optim.SGD(self.net.parameters(), lr=self.lr, momentum=float(o["momentum"]),
                                         weight_decay=float(o["weight_decay"]))
        self.train_windows = windows(self.train_stream, self.seq_len)
        self.valid_windows = windows(valid_stream, self.seq_len)
        self.full_windows = self.valid_windows[:FULL_SCORE_WINDOWS]
        shuffle = torch.Generator().manual_seed(context.seed + 1)
        self.valid_order = torch.randperm(len(self.valid_windows), generator=shuffle).tolist()
        self.hidden: torch.Tensor | None = None  # carried between training windows
        self.steps = 0
        self.valid_cursor = 0
        self._baseline: float | None = None

    # -- training -------------------------------------------------------------------------------
    def steps_per_epoch(self) -> int:
        return len(self.train_windows)

    def full_score_batches(self) -> int:
        return len(self.full_windows)

    def train_epoch(self, sample_arch: Callable[[], Any]) -> EpochStats:
        with cpu_threads(self.device):  # see training.lm.CPU_THREADS
            return self._train_epoch(sample_arch)

    def _train_epoch(self, sample_arch: Callable[[], Any]) -> EpochStats:
        self.net.train()
        total = len(self.train_windows)
        loss_sum = torch.zeros((), device=self.device)
        correct = torch.zeros((), device=self.device, dtype=torch.long)
        seen = steps = 0
        arch, stopped = None, False
        self.hidden = None  # an epoch starts at the beginning of the stream
        for x, y in self.train_windows:
            if self.context.should_stop():
                stopped = True
                break
            arch = sample_arch()
            loss, logits = self._train_step(x, y, arch)
            loss_sum += loss.detach() * y.numel()
            correct += (logits.argmax(-1) == y).sum()
            seen += y.numel()
            steps += 1
            self.context.on_step(steps, total)
        if seen == 0:
            return EpochStats(loss=None, accuracy=None, steps=0)
        # not should_stop() again here: that poll would mark the budget used before child_train is emitted
        extras = {} if stopped else self.epoch_validation(arch)
        return EpochStats(loss=float(loss_sum) / seen, accuracy=float(correct) / seen, steps=steps,
                          extras=extras)

    def epoch_validation(self, arch: Any) -> dict[str, Any]:
        """The epoch's ``child_train`` extras: the validation perplexity of ``arch`` (the last cell
        trained) on the derive windows (the same tokens every epoch, so the curve is comparable), the
        unigram baseline on those tokens and whether the rewards are still at noise level."""
        ppl = self.valid_perplexity(arch, full=True)
        baseline = self.baseline_perplexity()
        return {"valid_perplexity": round(ppl, 4), "baseline_perplexity": round(baseline, 4),
                "at_noise_level": not ppl < LEARNED_FRACTION * baseline}

    def baseline_perplexity(self) -> float:
        """Word frequencies of the train split scored on the derive windows' targets (computed once)."""
        if self._baseline is None:
            data = self.context.data
            targets = torch.cat([y.reshape(-1) for _, y in self.full_windows])
            vocab = len(data.vocab)
            self._baseline = baseline_perplexity(unigram_perplexity(data.train, targets, vocab), vocab)
        return self._baseline

    def _train_step(self, x: torch.Tensor, y: torch.Tensor, arch: Any) -> tuple[torch.Tensor, torch.Tensor]:
        def forward() -> tuple[torch.Tensor, torch.Tensor]:
            hidden = None if self.hidden is None else self.hidden.detach()
            with self._autocast():
                logits, self.hidden = self.net.run_arch(x, arch, hidden)
            return lm_loss(logits, y), logits

        loss, logits = self._sgd_step(forward)  # edges off the path keep grad None: no decay, no step
        self.hidden = self.hidden.detach()
        return loss, logits.detach()

    # -- rewards --------------------------------------------------------------------------------
    def _scoring(self) -> contextlib.AbstractContextManager[Any]:
        return cpu_threads(self.device)

    def _score(self, arch: Any, full: bool) -> float:
        return REWARD_C / self.valid_perplexity(arch, full)

    @torch.no_grad()
    def valid_perplexity(self, arch: Any, full: bool = False) -> float:
        """Perplexity of ``arch`` on the next validation window (``full``: the whole stream)."""
        was_training = self.net.training
        self.net.eval()
        try:
            if full:
                return float(stream_metrics(self._run(arch), self.full_windows)["perplexity"])
            index = self.valid_order[self.valid_cursor % len(self.valid_order)]
            self.valid_cursor += 1
            x, y = self.valid_windows[index]
            logits, _ = self._run(arch)(x, None)
            return perplexity(float(lm_loss(logits, y)))
        finally:
            self.net.train(was_training)

    def _run(self, arch: Any) -> Any:
        def run(x: torch.Tensor, hidden: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
            with self._autocast():
                return self.net.run_arch(x, arch, hidden)

        return run

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        if self.amp:
            return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()
