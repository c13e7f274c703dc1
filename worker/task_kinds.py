"""What a run does differently per task kind, in one place (``searchcore``'s task kinds).

The runner asks ``run_kind(space)`` and never tests a kind itself: which inputs final training gets
beyond the stored ``final`` settings, what the finished message reports, and what is stored with
the trained model for the results page. A kind without an entry here cannot run in the worker,
which says so instead of training with another kind's settings.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from searchcore.data import resolve_image_input
from searchcore.data.tasks import load_task_data
from searchcore.spaces import space_class
from searchcore.spaces.base import IMAGE, LANGUAGE
from searchcore.training.samples import generate, prompts_from

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunKind:
    # (search config, dataset path) -> FinalConfig fields beyond the stored ``final`` settings
    final_inputs: Callable[[dict[str, Any], str], dict[str, Any]]
    headline: Callable[[dict[str, Any]], str | None]  # final metrics -> "test accuracy 91.0%"
    # (final training folder, dataset path) -> extra metrics stored with the model (e.g. samples)
    extras: Callable[[Path, str], dict[str, Any]]


def _image_inputs(config: dict[str, Any], data: str) -> dict[str, Any]:
    """Seed, side and colour follow the search; "auto" (None) -> what the search used."""
    inputs = {k: config[k] for k in ("seed", "image_size", "grayscale") if k in config}
    inputs["image_size"], inputs["grayscale"] = resolve_image_input(
        data, image_size=inputs.get("image_size"), grayscale=inputs.get("grayscale"))
    return inputs


def _language_inputs(config: dict[str, Any], data: str) -> dict[str, Any]:
    """The seed only: a language model has no image side or colour (None: not applicable)."""
    return {"seed": config["seed"]} if "seed" in config else {}


def _accuracy(metrics: dict[str, Any]) -> str | None:
    value = metrics.get("test_accuracy")
    return None if value is None else f"test accuracy {value:.1%}"


def _perplexity(metrics: dict[str, Any]) -> str | None:
    value = metrics.get("test_perplexity")
    return None if value is None else f"test perplexity {value:.1f}"


def _no_extras(final_dir: Path, data: str) -> dict[str, Any]:
    return {}


def _samples(final_dir: Path, data: str) -> dict[str, Any]:
    """A few continuations of test-line openings by the trained model, made here once (the model is
    loaded in this process already; the web pages never load torch models)."""
    try:
        corpus = load_task_data(LANGUAGE, data).corpus
        prompts = prompts_from(corpus.test, corpus.vocab, "<eos>") or prompts_from(
            corpus.train, corpus.vocab, "<eos>")
        return {"samples": generate(final_dir, prompts)}
    except Exception:  # noqa: BLE001 - samples are a nicety: the trained model and package stand
        logger.exception("sample generations failed for %s", final_dir)
        return {"samples": []}


RUN_KINDS: dict[str, RunKind] = {
    IMAGE: RunKind(_image_inputs, _accuracy, _no_extras),
    LANGUAGE: RunKind(_language_inputs, _perplexity, _samples),
}


def run_kind(space: str) -> RunKind:
    kind = space_class(space).task_kind
    if kind not in RUN_KINDS:
        raise ValueError(f"The worker cannot run {kind!r} tasks yet (space {space!r}).")
    return RUN_KINDS[kind]
