#!/usr/bin/env python3
"""Classify images with the exported network: ONNX Runtime on the CPU, no network access.

    python predict.py cat.png dog.jpg            # FILE<TAB>CLASS<TAB>PROBABILITY, one line per file
    python predict.py --top 3 *.png              # FILE<TAB>CLASS1<TAB>P1<TAB>CLASS2<TAB>P2 ...
    python predict.py --json *.png               # one JSON object per line
    python predict.py --verify cat.png           # first check every file against MANIFEST.sha256

A file that cannot be read as an image gives ``FILE<TAB>ERROR<TAB>reason`` (or ``{"file", "error"}``
with ``--json``), the others are still classified, and the exit status is 1.

Images are decoded and resized by ``image_decode.py``, a verbatim copy of the code the network was
trained with, then scaled to 0..1 and normalised with the mean/std in ``preprocessing.json``.
Needs only the Python standard library, numpy, pillow and onnxruntime (see requirements.txt).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
from image_decode import ImageDecodeError, decode_image  # noqa: E402

MAX_PIXELS = 200_000_000  # refuse absurdly large images instead of exhausting memory
BATCH = 32


def load_preprocessing(package: Path) -> dict:
    return json.loads((package / "preprocessing.json").read_text(encoding="utf-8"))


def preprocess(data: bytes, prep: dict) -> np.ndarray:
    """Bytes of one image file -> float32 (C, H, W) normalised exactly as in training."""
    arr, _ = decode_image(data, size=int(prep["image_size"]), grayscale=bool(prep["grayscale"]),
                          max_pixels=MAX_PIXELS)
    arr = arr[:, :, None] if arr.ndim == 2 else arr
    mean = np.asarray(prep["mean"], dtype=np.float32)
    std = np.asarray(prep["std"], dtype=np.float32)
    # (x / 255 - mean) / std, computed as training's loader does: x * scale + shift in float32
    scale = np.float32(1.0) / (np.float32(255.0) * std)
    shift = -mean / std
    x = arr.astype(np.float32) * scale + shift
    return np.ascontiguousarray(x.transpose(2, 0, 1))


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits.astype(np.float64)
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def verify_manifest(package: Path) -> list[str]:
    """Names of the files whose sha256 differs from MANIFEST.sha256 (or that are missing)."""
    bad = []
    for line in (package / "MANIFEST.sha256").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        digest, name = line.split(None, 1)
        path = package / name.strip().lstrip("*")
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            bad.append(name.strip())
    return bad


class Classifier:
    def __init__(self, package: Path = HERE) -> None:
        self.prep = load_preprocessing(package)
        self.classes = list(self.prep["class_names"])
        options = ort.SessionOptions()
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(package / "model.onnx"), options,
                                            providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name

    def probabilities(self, batch: np.ndarray) -> np.ndarray:
        logits = self.session.run(None, {self.input_name: batch})[0]
        return softmax(logits)


def format_line(name: str, probs: np.ndarray, classes: list[str], top: int, as_json: bool) -> str:
    order = np.argsort(-probs, kind="stable")[:top]
    if as_json:
        preds = [{"class": classes[i], "probability": round(float(probs[i]), 6)} for i in order]
        return json.dumps({"file": name, "predictions": preds})
    return "\t".join([name] + [f"{classes[i]}\t{probs[i]:.4f}" for i in order])


def error_line(name: str, reason: str, as_json: bool) -> str:
    if as_json:
        return json.dumps({"file": name, "error": reason})
    return f"{name}\tERROR\t{reason}"


def read_inputs(files: list[str], prep: dict) -> list[tuple[str, np.ndarray | None, str]]:
    out = []
    for name in files:
        try:
            out.append((name, preprocess(Path(name).read_bytes(), prep), ""))
        except (OSError, ImageDecodeError) as exc:
            out.append((name, None, str(exc) or type(exc).__name__))
    return out


def run(files: list[str], top: int, as_json: bool, classifier: Classifier) -> int:
    failed = 0
    for start in range(0, len(files), BATCH):
        items = read_inputs(files[start:start + BATCH], classifier.prep)
        good = [x for _, x, _ in items if x is not None]
        probs = iter(classifier.probabilities(np.stack(good))) if good else iter(())
        for name, x, reason in items:
            if x is None:
                failed += 1
                print(error_line(name, reason, as_json), flush=True)
            else:
                print(format_line(name, next(probs), classifier.classes, top, as_json), flush=True)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Classify image files with model.onnx (CPU).")
    parser.add_argument("files", nargs="+", metavar="FILE", help="image files (png, jpeg, bmp, gif, webp...)")
    parser.add_argument("--top", type=int, default=1, metavar="K", help="print the K most likely classes")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--verify", action="store_true", help="check the files against MANIFEST.sha256 first")
    args = parser.parse_args(argv)
    if args.top < 1:
        parser.error("--top must be at least 1")
    if args.verify:
        bad = verify_manifest(HERE)
        if bad:
            print(f"predict.py: error: files differ from MANIFEST.sha256: {', '.join(bad)}", file=sys.stderr)
            return 2
    return run(args.files, args.top, args.json, Classifier(HERE))


if __name__ == "__main__":
    sys.exit(main())
