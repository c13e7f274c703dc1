"""The event queries the pages use live in webapp/searches/events.py."""

from __future__ import annotations

import pytest

from webapp.searches.events import append_event, latest_of_type, payload_values, payloads_of_type
from webapp.searches.models import Search


@pytest.mark.django_db
def test_payloads_oldest_first_and_latest_by_type(user, ready_dataset) -> None:
    search = Search.objects.create(owner=user, dataset=ready_dataset, name="s", config={})
    append_event(search.pk, "final_epoch", {"epoch": 1})
    append_event(search.pk, "evaluation", {"reward": 0.1})
    append_event(search.pk, "final_epoch", {"epoch": 2})
    append_event(search.pk, "evaluation", {"reward": 0.2})
    assert [p["epoch"] for p in payloads_of_type(search.pk, "final_epoch")] == [1, 2]
    latest = latest_of_type(search.pk, "evaluation")
    assert latest is not None and latest.payload["reward"] == 0.2
    first = latest_of_type(search.pk, "evaluation", seq=latest.seq - 2)
    assert first is not None and first.payload["reward"] == 0.1
    assert latest_of_type(search.pk, "evaluation", seq=latest.seq - 1) is None  # that seq is a final_epoch
    assert latest_of_type(search.pk, "architecture") is None


@pytest.mark.django_db
def test_payload_values_reads_only_the_named_keys_oldest_first(user, ready_dataset) -> None:
    search = Search.objects.create(owner=user, dataset=ready_dataset, name="s", config={})
    append_event(search.pk, "arch_sampled", {"architecture": {"space": "a"}, "accuracy": 0.5, "graph": {}})
    append_event(search.pk, "best", {"architecture": {"space": "x"}, "accuracy": 0.9})
    append_event(search.pk, "arch_sampled", {"architecture": {"space": "b"}, "reward": 0.1})
    rows = list(payload_values(search.pk, "arch_sampled", ("architecture", "accuracy")))
    assert rows == [({"space": "a"}, 0.5), ({"space": "b"}, None)]
