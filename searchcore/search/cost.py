"""Cost-aware reward: accuracy traded against the measured latency of the standalone child (MnasNet).

``reward = accuracy × (latency / target) ** w`` with ``w = α`` when ``latency <= target`` and ``β``
otherwise (MnasNet, Tan et al. 2019, eq. 2; Vertex AI NAS's latency-constrained reward). *Soft*:
``α = β = latency_weight`` (MnasNet's -0.07: twice the latency costs about 5 % of the reward, so a
faster cell wins only where it loses little accuracy). *Hard*: ``α = 0, β = -1``: nothing changes
within the target and the reward falls in proportion beyond it.

The latency is that of the network the user will train and ship, not of the search's shared
weights: the space's standalone child (``space.build_child``) at the search's own space options
(those the user set, not the planner's smaller proxy), on the search's device, timed by
``searchcore.planning.latency.latency_ms`` (median ms per image at batch 1). Each distinct
architecture (canonical JSON, ``state.arch_key``) is measured once and kept in a bounded
least-recently-used cache, which is part of the search's checkpoint (``state_dict``): a resumed search
measures only what it has not measured yet, so resuming neither spends its budget again on timing nor
gives an architecture a second, different latency. The child is built under a
forked, fixed-seed RNG so that turning the option on does not change the search's random stream.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import torch

from searchcore.config import LATENCY_MODES, SearchConfig
from searchcore.planning.latency import latency_ms
from searchcore.search.state import arch_key
from searchcore.spaces import SearchSpace, TaskSpec, create_space

HARD_EXPONENTS = (0.0, -1.0)  # MnasNet's hard constraint: (α within the target, β beyond it)
MAX_CACHED = 10_000  # distinct architectures whose latency is kept (two floats each)
MIN_LATENCY_MS = 1e-6  # a timer that reads 0 must not make the reward 0 or infinite


def latency_exponent(latency: float, target: float, weight: float, mode: str) -> float:
    """The exponent ``w`` of MnasNet's reward for one measured latency (milliseconds)."""
    if mode == "soft":
        return weight
    if mode == "hard":
        alpha, beta = HARD_EXPONENTS
        return alpha if latency <= target else beta
    raise ValueError(f"latency_mode must be one of {', '.join(LATENCY_MODES)}, not {mode!r}")


def shaped_reward(accuracy: float, latency: float, target: float, weight: float = -0.07,
                  mode: str = "soft") -> float:
    """``accuracy × (latency / target) ** w`` (see the module docstring)."""
    if target <= 0:
        raise ValueError("the latency target must be positive")
    latency = max(float(latency), MIN_LATENCY_MS)
    return float(accuracy) * (latency / target) ** latency_exponent(latency, target, weight, mode)


class LatencyReward:
    """Shapes evaluator rewards by the measured latency of each architecture's standalone child."""

    def __init__(self, space: SearchSpace, task: TaskSpec, device: torch.device | str, *, target_ms: float,
                 weight: float = -0.07, mode: str = "soft", max_cached: int = MAX_CACHED) -> None:
        latency_exponent(target_ms, target_ms, weight, mode)  # an unknown mode fails here, not mid-search
        self.space, self.task, self.device = space, task, torch.device(device)
        self.target_ms, self.weight, self.mode = float(target_ms), float(weight), mode
        self.max_cached = max_cached
        # arch key -> [latency ms, accuracy of its latest shaping (what the derived ``best`` reports)]
        self._cache: OrderedDict[int, list[float]] = OrderedDict()

    def measure(self, arch: Any) -> float:
        """Build the child and time it (uncached): milliseconds per image."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            model = self.space.build_child(arch, self.task).to(self.device)
        try:
            return latency_ms(model, self.task, self.device)
        finally:
            del model

    def latency(self, arch: Any) -> float:
        """Milliseconds per image of ``arch``'s child, measured the first time it is asked for."""
        return self._entry(arch)[0]

    def shape(self, accuracy: float, arch: Any) -> tuple[float, float]:
        """``(reward, latency_ms)`` for an architecture the evaluator scored ``accuracy``."""
        entry = self._entry(arch)
        entry[1] = float(accuracy)
        return shaped_reward(accuracy, entry[0], self.target_ms, self.weight, self.mode), entry[0]

    def shape_batch(self, archs: Sequence[Any], accuracies: Sequence[float]) -> list[float]:
        """The shaped rewards of a scored batch, in order (derive's candidates)."""
        return [self.shape(accuracy, arch)[0] for arch, accuracy in zip(archs, accuracies, strict=True)]

    def fields(self, arch_json: dict[str, Any]) -> dict[str, float]:
        """``{accuracy, latency_ms}`` of the latest shaping of this architecture (``{}``: none kept)."""
        entry = self._cache.get(arch_key(arch_json))
        return {} if entry is None else {"accuracy": entry[1], "latency_ms": entry[0]}

    def state_dict(self) -> dict[str, Any]:
        """The cache, least recently used first: ``{"entries": [[key, latency ms, accuracy], ...]}``."""
        return {"entries": [[key, latency, accuracy] for key, (latency, accuracy) in self._cache.items()]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Put a checkpointed cache back (the newest ``max_cached`` entries)."""
        self._cache.clear()
        for key, latency, accuracy in state.get("entries", [])[-self.max_cached:]:
            self._cache[int(key)] = [float(latency), float(accuracy)]

    def _entry(self, arch: Any) -> list[float]:
        key = arch_key(self.space.arch_to_json(arch))
        entry = self._cache.get(key)
        if entry is None:
            entry = self._cache[key] = [self.measure(arch), float("nan")]
            while len(self._cache) > self.max_cached:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return entry


def latency_reward(config: SearchConfig, data: Any, device: torch.device | str) -> LatencyReward | None:
    """The search's ``LatencyReward``, or ``None`` when ``latency_target_ms`` is not set.

    ``data``: the loaded dataset (its ``task()`` gives the input); an evaluator that reads no
    dataset (the benchmark table, NAS-Bench-201 on CIFAR-10) gets 3×32×32 images of 10 classes.
    """
    if config.latency_target_ms is None:
        return None
    space = create_space(config.space, **config.space_options)
    task = data.task() if hasattr(data, "task") else TaskSpec()
    return LatencyReward(space, task, device, target_ms=config.latency_target_ms,
                         weight=config.latency_weight, mode=config.latency_mode)


def shape_rewards(cost: LatencyReward | None, archs: Sequence[Any],
                  rewards: Sequence[float]) -> tuple[list[float], list[dict[str, float]]]:
    """``(rewards, event fields per architecture)``: as they are and ``{}`` each without ``cost``;
    else the shaped rewards and ``{accuracy, latency_ms}`` for each ``arch_sampled``/``best``."""
    if cost is None:
        return [float(r) for r in rewards], [{} for _ in archs]
    shaped, fields = [], []
    for arch, accuracy in zip(archs, rewards, strict=True):
        reward, latency = cost.shape(float(accuracy), arch)
        shaped.append(reward)
        fields.append({"accuracy": float(accuracy), "latency_ms": latency})
    return shaped, fields


__all__ = ["HARD_EXPONENTS", "LATENCY_MODES", "LatencyReward", "latency_exponent", "latency_reward",
           "shape_rewards", "shaped_reward"]
