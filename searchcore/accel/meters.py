"""Training metrics summed on the device and read back only when asked.

``float(loss)`` or ``.item()`` after every step makes the host wait for the GPU to finish that
step, so the next step's kernels cannot be queued behind it; at small batch the GPU then idles
between steps. The sums here stay on the device (loss in fp32, counts in int64) and cross to the
host in ``read()``: once per epoch in the training loops, or every ``read_every`` steps where a
caller wants running figures (``due(step)``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class MeterReading:
    loss: float | None  # mean loss per sample; None before any sample
    accuracy: float | None  # fraction 0..1
    seen: int


class DeviceMeter:
    """Sums of ``loss * batch`` and correct predictions on ``device``; ``seen`` is a host int (sizes
    are known without asking the GPU)."""

    def __init__(self, device: torch.device, read_every: int | None = None) -> None:
        if read_every is not None and read_every < 1:
            raise ValueError("read_every must be at least 1")
        self.loss_sum = torch.zeros((), dtype=torch.float32, device=device)
        self.correct = torch.zeros((), dtype=torch.int64, device=device)
        self.seen = 0
        self.steps = 0
        self.read_every = read_every

    def update(self, loss: torch.Tensor, logits: torch.Tensor, target: torch.Tensor) -> None:
        """Add one batch: ``loss`` is the batch mean (any float dtype), ``logits`` (N, classes)."""
        n = int(target.shape[0])
        self.loss_sum += loss.detach().float() * n
        self.correct += (logits.detach().argmax(1) == target).sum()
        self.seen += n
        self.steps += 1

    def due(self) -> bool:
        """True every ``read_every`` updates (never without ``read_every``): time for a ``read()``."""
        return self.read_every is not None and self.steps > 0 and self.steps % self.read_every == 0

    def read(self) -> MeterReading:
        """The means so far: the one place that waits for the device."""
        if self.seen == 0:
            return MeterReading(loss=None, accuracy=None, seen=0)
        return MeterReading(loss=float(self.loss_sum) / self.seen, accuracy=int(self.correct) / self.seen,
                            seen=self.seen)
