"""Fixtures for every searchcore test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    """The test networks and controllers are tiny: extra threads only add contention (and on a
    2-core CI box compete with the live stack's worker)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
