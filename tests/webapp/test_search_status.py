"""The search status set and its allowed moves (webapp/searches/status.py)."""

from __future__ import annotations

import pytest

from webapp.searches import status


def test_final_statuses_move_nowhere() -> None:
    for final in status.FINAL:
        assert status.is_final(final)
        assert not any(status.can_move(final, new) for new in status.ALL)
        assert not status.can_cancel(final) and status.cancel_target(final) is None
    assert not status.can_move(status.SUCCEEDED, status.RUNNING)


def test_active_moves_and_cancel_targets() -> None:
    assert status.can_move(status.QUEUED, status.RUNNING)
    assert status.can_move(status.RUNNING, status.CANCELLING)
    assert status.can_move(status.CANCELLING, status.CANCELLED)
    assert not status.can_move(status.CANCELLING, status.RUNNING)
    assert status.cancel_target(status.QUEUED) == status.CANCELLED
    assert status.cancel_target(status.RUNNING) == status.CANCELLING
    assert status.cancel_target(status.CANCELLING) is None
    assert set(status.ACTIVE) | set(status.FINAL) == set(status.ALL)


@pytest.mark.django_db
def test_finished_search_is_not_cancelled_or_reclaimed(user, ready_dataset) -> None:
    from webapp.searches.models import Search
    from webapp.searches.services import cancel_search
    from worker.lease import claim

    search = Search.objects.create(owner=user, dataset=ready_dataset, name="s",
                                   config={"space": "enas-micro"}, status=status.SUCCEEDED)
    assert cancel_search(search).status == status.SUCCEEDED
    assert not Search.objects.get(pk=search.pk).cancel_requested
    claim(search.pk)
    assert Search.objects.get(pk=search.pk).status == status.SUCCEEDED


def test_moves_into_lists_the_statuses_a_guarded_update_may_start_from() -> None:
    assert status.moves_into(status.SUCCEEDED) == (status.RUNNING, status.CANCELLING)
    assert status.moves_into(status.CANCELLED) == (status.QUEUED, status.RUNNING, status.CANCELLING)
    assert status.moves_into(status.QUEUED) == ()
