"""The command line (design §7): ``python -m searchcore spaces|search|train|export``."""

from __future__ import annotations

from searchcore.cli.app import main

__all__ = ["main"]
