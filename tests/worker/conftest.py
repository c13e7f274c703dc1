from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _media(media_root: Path) -> Path:
    return media_root
