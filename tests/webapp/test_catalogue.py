"""The one catalogue: every registered space/controller/evaluator, nothing else, in page and API."""

from __future__ import annotations

import pytest

from searchcore.compat import compatibility_table
from searchcore.controllers import list_controllers
from searchcore.evaluators import list_evaluators
from searchcore.spaces import list_spaces
from webapp.designer.catalog import catalogue, controller_choices, evaluator_choices, summary


def test_catalogue_lists_exactly_the_registered_names() -> None:
    body = catalogue()
    assert [s["name"] for s in body["spaces"]] == list_spaces()
    assert [c["name"] for c in body["controllers"]] == list_controllers()
    assert [e["name"] for e in body["evaluators"]] == list_evaluators()
    assert "ppo" in [c for c, _ in controller_choices()]
    assert "scratch" in [e for e, _ in evaluator_choices()]
    assert body["compatibility"] == compatibility_table()


def test_space_entries_carry_specs_size_and_kind() -> None:
    for entry in catalogue()["spaces"]:
        assert entry["option_specs"] == entry["options"] and entry["option_specs"]
        assert entry["task_kind"] in ("image", "language")
        size = int(entry["size"])
        assert size > 1 or (size == 1 and not entry["decisions"])  # one architecture: a fixed network
        assert entry["size_text"] != "unknown"


def test_help_comes_from_the_class() -> None:
    class WithSummary:
        summary = "one line"

    class WithDoc:
        """First line.

        More."""

    assert summary(WithSummary) == "one line"
    assert summary(WithDoc) == "First line."
    assert summary(lambda: None) == ""
    helps = dict(evaluator_choices())
    assert helps["benchmark"].startswith("NAS-Bench-201")


@pytest.mark.django_db
def test_api_serialises_the_same_catalogue(client, django_user_model) -> None:
    user = django_user_model.objects.create_user("cat", password="pw-123456789")
    client.force_login(user)
    body = client.get("/api/spaces/").json()
    assert [s["name"] for s in body["spaces"]] == list_spaces()
    assert body["controllers"] == list_controllers() and body["evaluators"] == list_evaluators()
    assert body["help"]["evaluators"] == dict(evaluator_choices())
    assert body["compatibility"] == compatibility_table()
