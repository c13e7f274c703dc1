"""Which architecture a search returns: candidates to score once the search budget is used up.

The loop scores every candidate on the whole validation split (or the table) through the
evaluator and keeps the best. Candidates are ``derive_samples`` controller samples, the
controller's greedy choice and the best architecture seen while searching, without repeats.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from searchcore.search.setup import SearchParts
from searchcore.search.state import unique_archs


def derive_candidates(parts: SearchParts, samples: int, best_seen: dict[str, Any] | None) -> list[Any]:
    """Sampled, greedy and best-seen architectures (as the space's arch objects), each once."""
    with torch.no_grad():
        values = parts.controller.sample(samples) + [parts.controller.greedy()]
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
