"""The table behind the ``benchmark`` evaluator: a CSV with an ``arch`` column and accuracy columns.

NAS-Bench-201 reports every cell's accuracy on CIFAR-10, CIFAR-100 and ImageNet16-120; the table this
project ships (``tests/fixtures/nb201_cifar10.csv``, ``shared/data/nb201/``) keeps ``arch`` and
``cifar10_test_acc_200ep`` only, and a user's table may name its columns as it likes. The column read
is the one named (the evaluator option ``accuracy_column``), else the only column besides ``arch``,
else ``cifar10_test_acc_200ep``, else the only one whose name contains "acc"; anything else is a
``ValueError`` that lists the table's columns. Values are read as given (the evaluator expects percent).
"""

from __future__ import annotations

import csv
import functools
import logging
import os
from collections.abc import Sequence
from pathlib import Path

logger = logging.getLogger(__name__)

ARCH_COLUMN = "arch"
DEFAULT_COLUMN = "cifar10_test_acc_200ep"


def load_table(path: str | os.PathLike[str], column: str | None = None) -> dict[str, float]:
    """``arch_str -> accuracy`` of ``column`` (``None``: ``choose_column``'s default); read once per file
    and column (cached by path, modification time and column)."""
    resolved, mtime = _identity(path)
    chosen = choose_column(_cached_columns(resolved, mtime), column, Path(resolved).name)
    return _cached_table(resolved, mtime, chosen)


def table_column(path: str | os.PathLike[str], column: str | None = None) -> str:
    """The name of the column ``load_table(path, column)`` reads."""
    resolved, mtime = _identity(path)
    return choose_column(_cached_columns(resolved, mtime), column, Path(resolved).name)


def choose_column(columns: Sequence[str], requested: str | None, table: str) -> str:
    """The accuracy column to read from a table with these ``columns`` (see the module docstring)."""
    others = [c for c in columns if c != ARCH_COLUMN]
    listed = ", ".join(map(repr, others)) or "none besides 'arch'"
    if ARCH_COLUMN not in columns:
        raise ValueError(f"benchmark table {table} needs a column {ARCH_COLUMN!r}; its columns: "
                         f"{', '.join(map(repr, columns)) or 'none'}")
    if requested is not None:
        if requested in others:
            return requested
        raise ValueError(f"benchmark table {table} has no accuracy column {requested!r}; "
                         f"its columns: {listed}")
    default = _default_column(others)
    if default is None:
        raise ValueError(f"benchmark table {table}: name its accuracy column with the evaluator option "
                         f"accuracy_column; its columns: {listed}")
    return default


def _default_column(others: Sequence[str]) -> str | None:
    if len(others) == 1:
        return others[0]
    if DEFAULT_COLUMN in others:
        return DEFAULT_COLUMN
    accuracy_like = [c for c in others if "acc" in c.lower()]
    return accuracy_like[0] if len(accuracy_like) == 1 else None


def _identity(path: str | os.PathLike[str]) -> tuple[str, float]:
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"benchmark table {str(p)!r} does not exist")
    return str(p.resolve()), p.stat().st_mtime


@functools.lru_cache(maxsize=8)
def _cached_columns(resolved: str, mtime: float) -> tuple[str, ...]:
    with Path(resolved).open(newline="", encoding="utf-8") as fh:
        return tuple(next(csv.reader(fh), []))


@functools.lru_cache(maxsize=4)  # bounded: a long-lived worker may see a table replaced many times
def _cached_table(resolved: str, mtime: float, column: str) -> dict[str, float]:
    table = _read_table(Path(resolved), column)
    logger.info("loaded %s architectures from %s (column %s)", len(table), resolved, column)
    return table


def _read_table(path: Path, column: str) -> dict[str, float]:
    with path.open(newline="", encoding="utf-8") as fh:
        table: dict[str, float] = {}
        for line, row in enumerate(csv.DictReader(fh), start=2):
            try:
                table[row[ARCH_COLUMN].strip()] = float(row[column])
            except (AttributeError, TypeError, ValueError) as exc:
                raise ValueError(f"benchmark table {path.name}, line {line}: bad row ({exc})") from exc
    if not table:
        raise ValueError(f"benchmark table {path.name} has no rows")
    return table
