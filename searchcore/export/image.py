"""The image classifier's package files: ``image_decode.py`` (the training decoder) + ``predict.py``.

``image_decode.py`` is a verbatim copy of ``searchcore/data/images.py``, so ``predict.py``
prepares a file exactly as training did; the network is checked on the real test images that
final training kept (uint8, normalised here with the training loader's own function).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from searchcore.export.kinds import register_exporter
from searchcore.export.onnx import normalise_samples
from searchcore.export.readme import render_readme, requirements_text
from searchcore.spaces.base import IMAGE
from searchcore.training.io import SAMPLES_FILE

TEMPLATE_DIR = Path(__file__).resolve().parent / "template"
DECODER_SOURCE = Path(__file__).resolve().parents[1] / "data" / "images.py"


@register_exporter(IMAGE)
class ImageExporter:
    kind = IMAGE

    def samples(self, train_dir: Path, prep: dict[str, Any]) -> torch.Tensor:
        path = train_dir / SAMPLES_FILE
        if not path.is_file():
            raise ValueError(f"{train_dir} has no {SAMPLES_FILE}: the export cannot be checked on real "
                             "images")
        images = load_file(str(path))["images"]
        if images.shape[0] == 0:
            raise ValueError(f"{path} holds no images")
        return normalise_samples(images, prep["mean"], prep["std"])

    def files(self, prep: dict[str, Any]) -> dict[str, bytes]:
        return {"predict.py": (TEMPLATE_DIR / "predict.py").read_bytes(), "image_decode.py": decoder_source()}

    def requirements(self) -> str:
        return requirements_text()

    def readme(self, arch: dict[str, Any], prep: dict[str, Any], metrics: dict[str, Any],
               cfg: dict[str, Any], info: dict[str, Any]) -> str:
        return render_readme(arch, prep, metrics, cfg, info)


def decoder_source() -> bytes:
    """The training decoder, which must stay importable without searchcore or torch."""
    source = DECODER_SOURCE.read_bytes()
    text = source.decode("utf-8")
    if "import searchcore" in text or "from searchcore" in text or "import torch" in text:
        raise RuntimeError("searchcore/data/images.py imports searchcore or torch; predict.py cannot use it")
    return source
