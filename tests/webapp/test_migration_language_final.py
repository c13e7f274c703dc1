"""Migration 0007: a language search stored with the image final section keeps only language settings,
so a re-run is not refused for an image knob (issue 9); image searches are untouched."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from webapp.datasets.models import Dataset

pytestmark = pytest.mark.django_db(transaction=True)
BEFORE, AFTER = ("searches", "0006_device_class"), ("searches", "0007_language_final_settings")
OLD_FINAL = {"budget_seconds": 120.0, "epochs": None, "batch_size": None, "lr": 0.05, "weight_decay": 3e-4,
             "grad_clip": 5.0, "drop_path": 0.0, "cutout": 0, "aux_head": False, "label_smoothing": 0.0,
             "channels": None, "init": "auto"}


def _migrate(target: tuple[str, str]):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])
    return executor.loader.project_state([target]).apps


@pytest.fixture(autouse=True)
def _latest_afterwards():
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # the next tests get today's schema


def test_old_language_final_sections_keep_only_language_settings(django_user_model) -> None:
    user = django_user_model.objects.create(username="old-user")
    dataset = Dataset.objects.create(owner=user, name="wiki")  # only the searches app is migrated back
    old = _migrate(BEFORE)
    searches = old.get_model("searches", "Search")
    language = searches.objects.create(owner_id=user.pk, dataset_id=dataset.pk, name="lm", config={
        "space": "enas-rnn", "final": {**OLD_FINAL, "lr": 2.0}})
    image = searches.objects.create(owner_id=user.pk, dataset_id=dataset.pk, name="img", config={
        "space": "enas-micro", "final": dict(OLD_FINAL)})
    new = _migrate(AFTER).get_model("searches", "Search")
    assert new.objects.get(pk=language.pk).config["final"] == {
        "budget_seconds": 120.0, "epochs": None, "batch_size": None, "lr": 2.0, "init": "auto"}
    assert new.objects.get(pk=image.pk).config["final"] == OLD_FINAL
