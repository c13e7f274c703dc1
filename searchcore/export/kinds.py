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

from searchcore.registry import KindRegistry


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

    # Optional: ``export_models(model, samples, stage) -> info`` writes the network files itself (the
    # language exporter: one recurrence step); without it ``package`` exports ``model(samples)``.


def _load_builtin_exporters() -> None:
    import searchcore.export.image  # noqa: F401  (registers the image exporter)
    import searchcore.export.language  # noqa: F401  (registers the language-model exporter)


_EXPORTERS: KindRegistry[Exporter] = KindRegistry("exporter", "kinds that can be packaged",
                                                   _load_builtin_exporters)


def register_exporter(kind: str) -> Callable[[type], type]:
    """Class decorator: an instance of the class packages networks of task kind ``kind``."""
    return _EXPORTERS.register(kind)


def exporter_for(kind: str) -> Exporter:
    """The exporter of ``kind``; raises ``ValueError`` naming the kinds that can be packaged."""
    return _EXPORTERS.get(kind)


def exporter_kinds() -> list[str]:
    return _EXPORTERS.kinds()
