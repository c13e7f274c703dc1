#!/usr/bin/env python3
"""Predict the next words of a text with the exported language model: ONNX Runtime on the CPU.

    python predict.py "the game was"                  # TEXT<TAB>WORD1<TAB>P1<TAB>WORD2<TAB>P2 ... (5 words)
    python predict.py --top 10 "some words" "more"    # one line per text
    python predict.py --json "the game was"           # one JSON object per line
    python predict.py --verify "the game was"         # first check every file against MANIFEST.sha256

``model.onnx`` is one step of the recurrent network: ``(tokens (1, batch), hidden) -> (logits,
hidden_out)``. The text is split on whitespace exactly as the training corpus was, read after an
``<eos>`` (a new line of the corpus), and fed one word at a time from a zero state; the last step's
logits give the next word's probabilities. A word outside the vocabulary becomes ``<unk>`` when the
vocabulary has it; otherwise it is skipped and named (``unknown`` in ``--json``, a note on stderr).
Needs only the Python standard library, numpy and onnxruntime (see requirements.txt).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort

HERE = Path(__file__).resolve().parent
MAX_WORDS = 100_000  # refuse absurdly long inputs instead of running for hours


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


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits.astype(np.float64)
    z -= z.max()
    e = np.exp(z)
    return e / e.sum()


class NextWords:
    def __init__(self, package: Path = HERE) -> None:
        prep = json.loads((package / "preprocessing.json").read_text(encoding="utf-8"))
        self.vocab: list[str] = list(prep["vocab"])
        self.index = {word: i for i, word in enumerate(self.vocab)}
        self.eos, self.unk = prep["eos"], prep.get("unk")
        options = ort.SessionOptions()
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(package / "model.onnx"), options,
                                            providers=["CPUExecutionProvider"])
        self.hidden_size = int(self.session.get_inputs()[1].shape[1])

    def ids(self, text: str) -> tuple[list[int], list[str]]:
        """Token ids of ``<eos>`` + the text's words; the words that are not in the vocabulary."""
        ids, unknown = [self.index[self.eos]], []
        for word in text.split():
            if word in self.index:
                ids.append(self.index[word])
            elif self.unk is not None:
                ids.append(self.index[self.unk])
                unknown.append(word)
            else:
                unknown.append(word)
        return ids, unknown

    def probabilities(self, ids: list[int]) -> np.ndarray:
        hidden = np.zeros((1, self.hidden_size), dtype=np.float32)
        logits = None
        for token in ids:
            logits, hidden = self.session.run(None, {"tokens": np.array([[token]], dtype=np.int64),
                                                     "hidden": hidden})
        return softmax(logits[0])


def predict_line(text: str, model: NextWords, top: int, as_json: bool) -> str:
    ids, unknown = model.ids(text)
    if len(ids) > MAX_WORDS:
        reason = f"the text has {len(ids) - 1} words; at most {MAX_WORDS - 1} are read"
        return json.dumps({"text": text, "error": reason}) if as_json else f"{text}\tERROR\t{reason}"
    probs = model.probabilities(ids)
    order = np.argsort(-probs, kind="stable")[:top]
    if as_json:
        preds = [{"word": model.vocab[i], "probability": round(float(probs[i]), 6)} for i in order]
        return json.dumps({"text": text, "predictions": preds, "unknown": unknown})
    if unknown:
        label = f"read as {model.unk}" if model.unk is not None else "skipped"
        print(f"predict.py: not in the vocabulary ({label}): {', '.join(unknown)}", file=sys.stderr)
    return "\t".join([text] + [f"{model.vocab[i]}\t{probs[i]:.4f}" for i in order])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print the most likely next words of each text (CPU).")
    parser.add_argument("texts", nargs="+", metavar="TEXT", help="words, e.g. \"the game was\"")
    parser.add_argument("--top", type=int, default=5, metavar="K", help="print the K most likely next words")
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
    model = NextWords(HERE)
    failed = 0
    for text in args.texts:
        line = predict_line(text, model, args.top, args.json)
        failed += "\tERROR\t" in line or '"error"' in line
        print(line, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
