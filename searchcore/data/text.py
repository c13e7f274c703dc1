"""Word-level text corpora, tokenised exactly as pytorch/examples ``word_language_model``.

Each line becomes ``line.split() + ["<eos>"]``; the vocabulary is built over train, valid and
test in order of first appearance (so ids match that example's ``data.Corpus``). A vocabulary
larger than ``max_vocab`` (default 10,000, PTB's size) keeps the most frequent train words (ties:
first appearance, ids still in order of first appearance) plus ``<eos>`` and ``<unk>``; every other
word becomes ``<unk>``, the PTB convention. A line longer than ``max_line_chars`` is refused: a
corpus is one sentence or paragraph per line, and a file without line breaks cannot be split or
reported on usefully. Accepted inputs:
one ``.txt`` (split by lines, contiguous, 80/10/10), a zip or a folder holding ``train.txt``,
``valid.txt`` and ``test.txt`` (any wrapping folder), or a zip holding a single ``.txt``.
"""

from __future__ import annotations

import logging
import math
import posixpath
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from searchcore.data.archive import ArchiveLimits, list_files, open_zip
from searchcore.data.errors import DatasetError
from searchcore.data.splits import SPLITS, check_fractions

logger = logging.getLogger(__name__)

EOS = "<eos>"
UNK = "<unk>"
MAX_TEXT_BYTES = 512 * 1024**2
DEFAULT_MAX_VOCAB = 10_000
MAX_LINE_CHARS = 100_000
LONGEST_LINES = 5  # reported per corpus
OOV_WARNING_RATE = 0.05
_SPLIT_FILES = {"train.txt": "train", "valid.txt": "valid", "val.txt": "valid", "validation.txt": "valid",
                "test.txt": "test"}  # fmt: skip


@dataclass
class TextReport:
    source: str  # "txt" | "zip" | "folder"
    lines: dict[str, int]
    tokens: dict[str, int]  # including one <eos> per line
    vocab_size: int  # including <eos>
    oov_tokens: dict[str, int]  # valid/test tokens whose word never occurs in train
    has_unk: bool  # the corpus already maps rare words to <unk>
    warnings: list[str] = field(default_factory=list)
    oov_rate: dict[str, float] = field(default_factory=dict)  # oov_tokens / tokens, valid and test
    vocab_cap: int | None = None
    words_seen: int = 0  # distinct words (with <eos>) before the cap
    unk_tokens: dict[str, int] = field(default_factory=dict)  # tokens that are <unk> after the cap
    longest_lines: list[dict[str, Any]] = field(default_factory=list)  # split, line (1-based), words, chars

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TextCorpus:
    train: Tensor  # int64 token ids
    valid: Tensor
    test: Tensor
    vocab: list[str]  # id -> word
    report: TextReport

    @property
    def word2idx(self) -> dict[str, int]:
        return {w: i for i, w in enumerate(self.vocab)}


def load_text_corpus(
    path: str | Path, *, split: Sequence[float] = (0.8, 0.1, 0.1), limits: ArchiveLimits = ArchiveLimits(),
    max_vocab: int | None = DEFAULT_MAX_VOCAB, max_line_chars: int = MAX_LINE_CHARS,
) -> TextCorpus:
    """Read, tokenise and number a corpus; raises :class:`DatasetError` on unusable input.

    ``max_vocab`` None: no cap (every word keeps its own id)."""
    if max_vocab is not None and max_vocab < 3:
        raise ValueError("max_vocab must be at least 3 (<eos>, <unk> and one word)")
    path = Path(path)
    source, texts = _read_sources(path, check_fractions(split), limits)
    lines = {name: _lines(texts[name]) for name in SPLITS}
    for name in SPLITS:
        _check_line_lengths(name, lines[name], max_line_chars)
        if not any(line.split() for line in lines[name]):
            raise DatasetError(f"the {name} text has no words")
    vocab: dict[str, int] = {}
    ids = {name: _tokenise(lines[name], vocab) for name in SPLITS}
    seen_in_train = torch.zeros(len(vocab), dtype=torch.bool)
    seen_in_train[ids["train"]] = True
    oov = {name: int((~seen_in_train[ids[name]]).sum()) for name in ("valid", "test")}
    words_seen = len(vocab)
    if max_vocab is not None and len(vocab) > max_vocab:
        ids, vocab = _cap(ids, vocab, max_vocab)
    report = _report(source, lines, ids, vocab, oov)
    report.vocab_cap, report.words_seen = max_vocab, words_seen
    logger.info(
        "loaded text corpus %s: %s tokens, vocabulary %d", path.name, report.tokens, report.vocab_size
    )
    return TextCorpus(
        train=ids["train"], valid=ids["valid"], test=ids["test"], vocab=list(vocab), report=report
    )


def batchify(ids: Tensor, batch_size: int) -> Tensor:
    """``(len // batch_size, batch_size)``: column ``j`` is a contiguous stretch of the stream.

    As pytorch/examples: the tail that does not fill a whole row is dropped.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    rows = ids.numel() // batch_size
    if rows == 0:
        raise ValueError(f"{ids.numel()} tokens cannot fill one row of {batch_size} columns")
    return ids[: rows * batch_size].view(batch_size, rows).t().contiguous()


def decode_text(data: bytes, name: str) -> str:
    if b"\x00" in data[:65536]:
        raise DatasetError(f"{name} is a binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{name} is not UTF-8 text (byte {exc.start} cannot be decoded)") from exc


def _read_sources(
    path: Path, fractions: tuple[float, float, float], limits: ArchiveLimits
) -> tuple[str, dict[str, str]]:
    if path.is_dir():
        return "folder", _read_folder(path)
    if not path.is_file():
        raise DatasetError(f"the file {path.name!r} does not exist")
    if path.suffix.lower() == ".zip":
        return "zip", _read_zip(path, fractions, limits)
    if path.stat().st_size > MAX_TEXT_BYTES:
        raise DatasetError(f"{path.name} is larger than {MAX_TEXT_BYTES // 1024**2} MiB")
    return "txt", _split_lines(decode_text(path.read_bytes(), path.name), fractions)


def _read_folder(folder: Path) -> dict[str, str]:
    found = {_SPLIT_FILES[p.name.lower()]: p for p in folder.iterdir() if p.name.lower() in _SPLIT_FILES}
    if len(found) < 3:
        raise _missing(found, folder.name)
    return {name: decode_text(found[name].read_bytes(), found[name].name) for name in SPLITS}


def _read_zip(path: Path, fractions: tuple[float, float, float], limits: ArchiveLimits) -> dict[str, str]:
    with open_zip(path, limits) as zf:
        files, refused = list_files(zf, limits)
        for issue in refused:
            if posixpath.basename(issue.path).lower() in _SPLIT_FILES or issue.path.lower().endswith(".txt"):
                raise DatasetError(f"{issue.path}: {issue.reason}")
        groups: dict[str, dict[str, str]] = {}
        for rel, member in files.items():
            split = _SPLIT_FILES.get(posixpath.basename(rel).lower())
            if split:
                groups.setdefault(posixpath.dirname(rel), {})[split] = member
        complete = sorted((d for d, g in groups.items() if len(g) == 3), key=lambda d: (d.count("/"), d))
        if complete:
            chosen = groups[complete[0]]
            return {
                name: decode_text(zf.read(chosen[name]), posixpath.basename(chosen[name])) for name in SPLITS
            }
        texts = [rel for rel in files if rel.lower().endswith(".txt")]
        if len(texts) == 1 and not groups:
            return _split_lines(decode_text(zf.read(files[texts[0]]), texts[0]), fractions)
        raise _missing(next(iter(groups.values()), {}), path.name)


def _missing(found: dict[str, Any], where: str) -> DatasetError:
    missing = ", ".join(f"{name}.txt" for name in SPLITS if name not in found)
    return DatasetError(
        f"{where} needs train.txt, valid.txt and test.txt (or a single .txt to split); missing: {missing}"
    )


def _lines(text: str) -> list[str]:
    """Lines as Python's text-mode file iteration gives them (universal newlines)."""
    normalized = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = normalized.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _split_lines(text: str, fractions: tuple[float, float, float]) -> dict[str, str]:
    lines = _lines(text)
    wanted = [f > 0 for f in fractions]
    if len(lines) < sum(wanted):
        raise DatasetError(f"the text has {len(lines)} line(s); it needs at least {sum(wanted)} to split")
    n = len(lines)
    first = min(max(math.floor(n * fractions[0] + 0.5), 1), n - sum(wanted[1:]))
    second = min(max(math.floor(n * (fractions[0] + fractions[1]) + 0.5), first + wanted[1]), n - wanted[2])
    parts = (lines[:first], lines[first:second], lines[second:])
    return {name: "".join(line + "\n" for line in part) for name, part in zip(SPLITS, parts, strict=True)}


def _tokenise(lines: list[str], vocab: dict[str, int]) -> Tensor:
    ids: list[int] = []
    for line in lines:
        for word in line.split() + [EOS]:
            index = vocab.get(word)
            if index is None:
                index = vocab[word] = len(vocab)
            ids.append(index)
    return torch.tensor(ids, dtype=torch.int64)


def _check_line_lengths(split: str, lines: list[str], max_chars: int) -> None:
    for number, line in enumerate(lines, 1):
        if len(line) > max_chars:
            raise DatasetError(
                f"line {number:,} of the {split} text has {len(line):,} characters (the limit is "
                f"{max_chars:,}); put one sentence or paragraph per line"
            )


def _cap(
    ids: dict[str, Tensor], vocab: dict[str, int], max_vocab: int
) -> tuple[dict[str, Tensor], dict[str, int]]:
    """Keep ``<eos>``, ``<unk>`` and the ``max_vocab - 2`` most frequent train words; renumber."""
    counts = torch.bincount(ids["train"], minlength=len(vocab))
    special = {vocab[w] for w in (EOS, UNK) if w in vocab}
    counts[list(special)] = -1  # always kept, not counted against the words
    order = sorted(range(len(vocab)), key=lambda i: (-int(counts[i]), i))
    kept = sorted(special | set(order[: max_vocab - 2]))  # <eos> is always there; <unk> is, or is added
    names = list(vocab)
    new_vocab = {names[i]: n for n, i in enumerate(kept)}
    if UNK not in new_vocab:
        new_vocab[UNK] = len(new_vocab)
    mapping = torch.full((len(vocab),), new_vocab[UNK], dtype=torch.int64)
    for n, i in enumerate(kept):
        mapping[i] = n
    return {name: mapping[t] for name, t in ids.items()}, new_vocab


def _longest(lines: dict[str, list[str]]) -> list[dict[str, Any]]:
    found = [(len(line), name, number, line) for name in SPLITS for number, line in enumerate(lines[name], 1)]
    top = sorted(found, key=lambda f: (-f[0], f[1], f[2]))[:LONGEST_LINES]
    return [{"split": name, "line": number, "words": len(line.split()), "chars": chars,
             "start": line[:80]} for chars, name, number, line in top]


def _report(
    source: str, lines: dict[str, list[str]], ids: dict[str, Tensor], vocab: dict[str, int],
    oov: dict[str, int],
) -> TextReport:
    unk = vocab.get(UNK)
    report = TextReport(
        source=source,
        lines={k: len(v) for k, v in lines.items()},
        tokens={k: int(v.numel()) for k, v in ids.items()},
        vocab_size=len(vocab),
        oov_tokens=oov,
        has_unk=unk is not None,
        unk_tokens={k: int((v == unk).sum()) if unk is not None else 0 for k, v in ids.items()},
        longest_lines=_longest(lines),
    )
    report.oov_rate = {name: round(count / max(report.tokens[name], 1), 4) for name, count in oov.items()}
    for name, count in oov.items():
        rate = count / max(report.tokens[name], 1)
        if rate > OOV_WARNING_RATE:
            report.warnings.append(
                f"{rate:.1%} of the {name} tokens are words that never occur in train; their embeddings stay "
                f"untrained (map rare words to {UNK} to avoid this)"
            )
    return report
