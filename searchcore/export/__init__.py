"""The download package: a zip that runs without this app (design §5).

``package`` assembles and verifies it; ``onnx`` exports and checks the ONNX and PyTorch forms;
``readme`` renders its README and requirements; ``template/`` holds the files copied into it;
``kinds`` picks by task kind what differs between kinds (``image``: decoder + ``predict.py``).
"""

from __future__ import annotations

from searchcore.export.package import export_package

__all__ = ["export_package"]
