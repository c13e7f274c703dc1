"""Which architecture a search returns: candidates to score once the search budget is used up.

The loop scores every candidate on the whole validation split (or the table) through the
evaluator and keeps the best. Candidates are ``derive_samples`` controller samples, the
controller's greedy choice and the best architecture seen while searching, without repeats.

A degenerate candidate (``space.degenerate_reasons``: e.g. a cell of parameter-free operations
only, the typical collapse of an untrained controller's greedy choice) is kept only when nothing
else exists, unless the search allows them (``SearchConfig.allow_degenerate``). When every
candidate is degenerate, derive samples up to ``EXTRA_ROUNDS`` more batches from the controller
(scoring only the sound ones), then falls back to the best sound architecture seen while searching;
only if there is none does it return the best degenerate candidate, with its reasons.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from searchcore.search.setup import SearchParts
from searchcore.search.state import unique_archs

logger = logging.getLogger(__name__)

Shape = Callable[[Sequence[Any], Sequence[float]], list[float]]  # (archs, scores) -> rewards
EXTRA_ROUNDS = 4  # more controller batches of ``derive_samples`` when every candidate is degenerate


@dataclass(frozen=True)
class Derived:
    """The architecture derive chose, its reward, and why it is degenerate (``[]``: it is not)."""

    architecture: dict[str, Any]
    reward: float
    degenerate: list[str] = field(default_factory=list)


def derive_candidates(parts: SearchParts, samples: int, best_seen: dict[str, Any] | None) -> list[Any]:
    """Sampled, greedy and best-seen architectures (as the space's arch objects), each once."""
    with torch.no_grad():
        values = (parts.controller.sample(samples) if samples > 0 else []) + [parts.controller.greedy()]
    archs = [parts.space.from_decisions(v) for v in values]
    if best_seen is not None:
        archs.append(parts.space.arch_from_json(best_seen))
    return unique_archs(archs, parts.space.arch_to_json)


def best_candidate(parts: SearchParts, candidates: Sequence[Any],
                   rewards: Sequence[float]) -> tuple[dict[str, Any], float]:
    """The highest-reward candidate as architecture JSON, and its reward (the first of equals)."""
    best_json, best_reward = None, None
    for arch, reward in zip(candidates, map(float, rewards), strict=True):
        if best_reward is None or reward > best_reward:
            best_json, best_reward = parts.space.arch_to_json(arch), reward
    assert best_json is not None and best_reward is not None, "derive needs at least one candidate"
    return best_json, best_reward


def derive_best(parts: SearchParts, *, samples: int, best_seen: dict[str, Any] | None,
                sound_seen: dict[str, Any] | None, allow_degenerate: bool,
                should_stop: Callable[[], bool], shape: Shape | None = None) -> Derived | None:
    """Score the candidates on the whole validation split and choose (see the module docstring);
    ``None`` when ``should_stop`` stopped the scoring. ``sound_seen``: the best architecture seen
    while searching that is not degenerate (``LoopState.sound_arch``). ``shape``: the search's
    reward from the evaluator's scores (the latency term, ``searchcore.search.cost``)."""
    candidates = derive_candidates(parts, samples, best_seen)
    if allow_degenerate:
        return _choose(parts, candidates, should_stop, shape)
    sound, degenerate = _split(parts, candidates)
    for _ in range(EXTRA_ROUNDS if not sound and samples > 0 else 0):
        with torch.no_grad():
            extra = [parts.space.from_decisions(v) for v in parts.controller.sample(samples)]
        sound = _split(parts, unique_archs(extra, parts.space.arch_to_json))[0]
        if sound:
            logger.info("derive: every candidate was degenerate; %d more samples are not", len(sound))
            break
    if not sound and sound_seen is not None:
        logger.info("derive: every sample is degenerate; falling back to the best sound one seen")
        sound = [parts.space.arch_from_json(sound_seen)]
    return _choose(parts, sound or degenerate, should_stop, shape)


def derive_phase(loop: Any) -> bool:
    """The search loop's derive (``SearchLoop.derive``): choose within what the time left affords,
    record the choice as the loop's best and emit it as the derived ``best``; ``False`` when a stop
    came first."""
    parts, state, cost = loop.parts, loop.state, loop.cost
    samples = loop.reserve.samples(parts.evaluator.full_score_batches())  # what the time left affords
    chosen = derive_best(parts, samples=samples, best_seen=state.best_arch, sound_seen=state.sound_arch,
                         allow_degenerate=loop.config.allow_degenerate,  # not degenerate unless nothing else
                         should_stop=loop.user_should_stop, shape=cost.shape_batch if cost else None)
    if chosen is None:
        return False
    state.best_arch, state.best_reward = chosen.architecture, chosen.reward
    graph = parts.space.graph(parts.space.arch_from_json(chosen.architecture))
    loop.emitter.emit("best", step=state.step, architecture=chosen.architecture, reward=chosen.reward,
                      graph=graph, derived=True, degenerate=chosen.degenerate,
                      **(cost.fields(chosen.architecture) if cost else {}))
    return True


def _split(parts: SearchParts, archs: Sequence[Any]) -> tuple[list[Any], list[Any]]:
    """``(sound, degenerate)`` architectures, each in the given order."""
    sound, degenerate = [], []
    for arch in archs:
        (degenerate if parts.space.degenerate_reasons(arch) else sound).append(arch)
    return sound, degenerate


def _choose(parts: SearchParts, candidates: Sequence[Any], should_stop: Callable[[], bool],
            shape: Shape | None = None) -> Derived | None:
    """Score ``candidates`` (full validation split) and return the best with its reasons."""
    if should_stop():
        return None
    rewards = parts.evaluator.wait(parts.evaluator.submit(list(candidates), full=True), should_stop)
    if rewards is None:
        return None
    if shape is not None:  # chosen by the reward the search learnt from
        rewards = shape(candidates, rewards)
    best_json, best_reward = best_candidate(parts, candidates, rewards)
    reasons = parts.space.degenerate_reasons(parts.space.arch_from_json(best_json))
    return Derived(best_json, best_reward, reasons)


__all__ = ["EXTRA_ROUNDS", "Derived", "best_candidate", "derive_best", "derive_candidates", "derive_phase"]
