"""Package contents by task kind: ``exporter_for(kind)`` -> what differs between kinds.

``export_package`` owns what every kind shares (rebuilding the network, ONNX and PyTorch exports
checked against PyTorch, weights, manifest, zip); an exporter owns the rest: the verification
inputs (from ``test_samples.safetensors``), the input decoder and ``predict.py`` copied into the
package, its ``requirements.txt`` and its README. The image exporter (``export.image``) is
registered here; a language exporter (a tokeniser + ``predict.py`` for text) is one more module
that calls ``register_exporter("language")``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import torch


class Exporter(Protocol):
    kind: str

    def samples(self, train_dir: Path, prep: dict[str, Any]) -> torch.Tensor:
        """Real test inputs, as the network takes them, to check each export on."""

    def files(self, prep: dict[str, Any]) -> dict[str, bytes]:
        """Files copied into the package as they are: ``predict.py`` and its input decoder."""

    def requirements(self) -> str:
        """``requirements.txt`` of ``predict.py``, pinned to the versions the package was checked with."""

    def readme(self, arch: dict[str, Any], prep: dict[str, Any], metrics: dict[str, Any],
               cfg: dict[str, Any], info: dict[str, Any]) -> str:
        """``README.md`` of the package."""


_EXPORTERS: dict[str, Exporter] = {}


def register_exporter(kind: str) -> Callable[[type], type]:
    """Class decorator: an instance of the class packages networks of task kind ``kind``."""
    def decorator(cls: type) -> type:
        if kind in _EXPORTERS:
            raise ValueError(f"an exporter for task kind {kind!r} is registered twice")
        instance = cls()
        instance.kind = kind
        _EXPORTERS[kind] = instance
        return cls

    return decorator


def exporter_for(kind: str) -> Exporter:
    """The exporter of ``kind``; raises ``ValueError`` naming the kinds that can be packaged."""
    _load_builtin_exporters()
    if kind not in _EXPORTERS:
        known = ", ".join(sorted(_EXPORTERS)) or "none"
        raise ValueError(f"no exporter for task kind {kind!r}; kinds that can be packaged: {known}")
    return _EXPORTERS[kind]


def exporter_kinds() -> list[str]:
    _load_builtin_exporters()
    return sorted(_EXPORTERS)


def _load_builtin_exporters() -> None:
    import searchcore.export.image  # noqa: F401  (registers the image exporter)
