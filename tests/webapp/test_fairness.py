"""Fair order of the shared queue (issue 11 item 1): round-robin over users, least recently served first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from webapp.searches.fairness import fair_order, next_queued, queued_in_fair_order
from webapp.searches.models import Search
from webapp.searches.services import queue_position, queue_positions

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_one_users_thirty_searches_do_not_push_the_next_user_to_thirty() -> None:
    queued = [(pk, 1) for pk in range(1, 31)] + [(31, 2)]
    order = fair_order(queued, {})
    assert order[:4] == [1, 31, 2, 3] and sorted(order) == list(range(1, 32))


def test_the_least_recently_served_user_goes_first_then_round_robin() -> None:
    queued = [(1, 10), (2, 10), (3, 20), (4, 30), (5, 20)]
    served = {10: T0 + timedelta(minutes=5), 20: T0, 30: None}  # 30: never served
    assert fair_order(queued, served) == [4, 3, 1, 5, 2]


def test_ties_go_to_the_user_with_the_older_queued_search_and_each_user_is_fifo() -> None:
    assert fair_order([(7, 2), (3, 1), (9, 2), (5, 1)], {}) == [3, 7, 5, 9]
    assert fair_order([], {}) == []


@pytest.mark.django_db
def test_queue_positions_follow_the_fair_order(user, other_user, django_assert_num_queries) -> None:
    mine = [Search.objects.create(owner=user, name=f"a{i}", config={}) for i in range(5)]
    theirs = Search.objects.create(owner=other_user, name="b", config={})
    assert queue_position(theirs) == 2 and [queue_position(s) for s in mine] == [1, 3, 4, 5, 6]
    with django_assert_num_queries(1):
        positions = queue_positions([*mine, theirs])
    assert positions == {s.pk: queue_position(s) for s in [*mine, theirs]}

    Search.objects.filter(pk=mine[0].pk).update(status=Search.RUNNING, started_at=T0)  # user served
    assert next_queued() == theirs.pk and queue_position(theirs) == 1
    Search.objects.filter(pk=theirs.pk).update(status=Search.RUNNING, started_at=T0 + timedelta(seconds=1))
    assert queued_in_fair_order() == [s.pk for s in mine[1:]]
    assert next_queued(excluding={mine[1].pk}) == mine[2].pk
