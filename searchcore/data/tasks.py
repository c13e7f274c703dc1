"""One entry point for a task's data, chosen by task kind: ``load_task_data(kind, path, **settings)``.

Each kind registers a loader (``register_task_loader``) that names the settings it reads; callers
pass their whole configuration (image side, grayscale, seed, sequence length, ...) and each loader
takes only its own, so the search setup and final training make one call whatever the kind. The
returned object has ``.task() -> TaskSpec`` (what the network must fit).

- ``image``: :func:`load_image_dataset` (a zip of class folders or a CSV manifest); an
  ``image_size``/``grayscale`` left ``None`` is the dataset's native one (``data.native``).
- ``language``: :func:`load_text_corpus` wrapped in :class:`LanguageData` (the corpus plus the
  sequence length the task is trained with).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import Tensor

from searchcore.data.dataset import load_image_dataset
from searchcore.data.text import TextCorpus, load_text_corpus
from searchcore.registry import Registry
from searchcore.spaces.base import IMAGE, LANGUAGE, TaskSpec

DEFAULT_SEQ_LEN = 35  # pytorch/examples word_language_model's --bptt

_LOADERS: Registry[Any] = Registry("task kind")


def register_task_loader(kind: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: ``loader(path, *, setting=default, ...)`` serves the task kind ``kind``."""
    return _LOADERS.register(kind)


def task_kinds() -> list[str]:
    return _LOADERS.names()


def load_task_data(kind: str, path: str | Path, **settings: Any) -> Any:
    """Load ``path`` as data of task ``kind``; unknown kinds raise ``UnknownNameError``.

    Settings the kind's loader does not take, and ``None`` values, are ignored.
    """
    loader = _LOADERS.factory(kind)
    accepted = set(list(inspect.signature(loader).parameters)[1:])
    return loader(path, **{k: v for k, v in settings.items() if k in accepted and v is not None})


@dataclass
class LanguageData:
    """A tokenised corpus and the sequence length its language task is trained with."""

    corpus: TextCorpus
    seq_len: int = DEFAULT_SEQ_LEN

    def __post_init__(self) -> None:
        if self.seq_len < 1:
            raise ValueError("seq_len must be at least 1")

    @property
    def train(self) -> Tensor:
        return self.corpus.train

    @property
    def valid(self) -> Tensor:
        return self.corpus.valid

    @property
    def test(self) -> Tensor:
        return self.corpus.test

    @property
    def vocab(self) -> list[str]:
        return self.corpus.vocab

    def task(self) -> TaskSpec:
        return TaskSpec.language(len(self.corpus.vocab), self.seq_len)


@register_task_loader(IMAGE)
def _image(path: str | Path, *, image_size: int | None = None, grayscale: bool | None = None,
           split: tuple[float, ...] = (0.8, 0.1, 0.1), seed: int = 0, max_images: int | None = None) -> Any:
    return load_image_dataset(path, image_size=image_size, grayscale=grayscale, split=split, seed=seed,
                              max_images=max_images)


@register_task_loader(LANGUAGE)
def _language(path: str | Path, *, seq_len: int = DEFAULT_SEQ_LEN,
              split: tuple[float, ...] = (0.8, 0.1, 0.1)) -> LanguageData:
    return LanguageData(load_text_corpus(path, split=split), seq_len)


__all__ = ["DEFAULT_SEQ_LEN", "LanguageData", "load_task_data", "register_task_loader", "task_kinds"]
