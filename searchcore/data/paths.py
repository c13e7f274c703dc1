"""Resolving a manifest's path cells against the zip's names in time linear in the cell's length.

A cell names the zip path equal to it, else the longest zip path that is a whole-segment suffix
of it (``gs://bucket/photos/1.png`` -> ``photos/1.png``, ``/home/me/set/cat/1.png`` ->
``cat/1.png``). Trying every suffix by joining segments costs O(k^2) for a cell of k segments:
two 128 KB cells of one-letter segments held the datasets worker for minutes. Here the zip's
names are indexed once, each by a polynomial hash of its segment ids read from its end; a cell's
suffix hashes come from one right-to-left pass (O(k)), stopping at the first segment no zip name
has, and a hash hit is confirmed by comparing the strings once.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping

_MODULUS = (1 << 61) - 1  # a Mersenne prime
_BASE = secrets.randbelow(_MODULUS - (1 << 32)) + (1 << 32)  # random per process: no crafted collisions


def cell_parts(raw: str) -> list[str] | None:
    """The segments a manifest cell names (URI scheme and bucket dropped), None if it climbs ``..``."""
    text = raw.replace("\\", "/")
    if "://" in text:  # gs://bucket/dir/x.jpg -> dir/x.jpg
        text = text.split("://", 1)[1].partition("/")[2]
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return parts


class PathIndex:
    """The zip's normalised paths (``relative``: path -> member), indexed for suffix lookups."""

    def __init__(self, relative: Mapping[str, str]) -> None:
        self.relative = relative
        self._ids: dict[str, int] = {}
        self._by_hash: dict[int, str] = {}
        for path in relative:
            self._by_hash.setdefault(self._hash(path.split("/")), path)

    def resolve(self, raw: str) -> str | None:
        """The zip path ``raw`` refers to (exact, else longest whole-segment suffix), or None."""
        if raw in self.relative:  # the usual case, and zip paths never climb with ".."
            return raw
        parts = cell_parts(raw)
        if parts is None:
            return None
        exact = "/".join(parts)
        if exact in self.relative:
            return exact
        for start, value in self._suffix_hashes(parts):
            found = self._by_hash.get(value)
            if found is not None and found == "/".join(parts[start:]):
                return found
        return None

    def _hash(self, parts: list[str]) -> int:
        value, power = 0, 1
        for part in reversed(parts):
            ident = self._ids.setdefault(part, len(self._ids) + 1)
            value = (value + ident * power) % _MODULUS
            power = power * _BASE % _MODULUS
        return value

    def _suffix_hashes(self, parts: list[str]) -> list[tuple[int, int]]:
        """``(start, hash of parts[start:])`` for every suffix made only of known segments, longest first."""
        out: list[tuple[int, int]] = []
        value, power = 0, 1
        for start in range(len(parts) - 1, -1, -1):
            ident = self._ids.get(parts[start])
            if ident is None:
                break
            value = (value + ident * power) % _MODULUS
            power = power * _BASE % _MODULUS
            out.append((start, value))
        out.reverse()
        return out
