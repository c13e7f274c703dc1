from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _media(media_root: Path) -> Path:
    """Every web-app test writes uploads into its own temporary MEDIA_ROOT."""
    return media_root


@pytest.fixture
def ready_dataset(user: Any) -> Any:
    from webapp.datasets.models import Dataset

    return Dataset.objects.create(owner=user, name="cifar tiny", status=Dataset.READY, num_classes=10,
                                  num_images=100, file="datasets/x/cifar.zip")
