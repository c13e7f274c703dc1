from __future__ import annotations

import json
from unittest import mock

import pytest

from searchcore.events import Emitter, Event
from webapp.searches.models import Search, SearchEvent
from worker.sink import DbChannelSink

pytestmark = pytest.mark.django_db


@pytest.fixture
def search(user) -> Search:
    return Search.objects.create(owner=user, name="s", config={}, status=Search.RUNNING)


def test_the_row_is_written_before_the_push(search) -> None:
    seen_at_push: list[bool] = []

    def publish(search_id, event):
        seen_at_push.append(SearchEvent.objects.filter(search_id=search_id, seq=event["seq"]).exists())
        return True

    with mock.patch("webapp.searches.realtime.publish", side_effect=publish) as pushed:
        Emitter(DbChannelSink(search.pk)).emit("log", level="info", message="hi")
    assert seen_at_push == [True]
    assert pushed.call_args.args[1]["payload"] == {"level": "info", "message": "hi"}


def test_a_redelivered_event_is_stored_once(search) -> None:
    sink = DbChannelSink(search.pk)
    event = Event(seq=1, type="log", time=1.0, payload={"message": "a"})
    with mock.patch("webapp.searches.realtime.publish"):
        sink.emit(event)
        sink.emit(event)
    assert SearchEvent.objects.filter(search=search).count() == 1
    search.refresh_from_db()
    assert search.last_seq == 1


def test_a_failed_push_never_loses_the_row(search) -> None:
    layer = mock.Mock()
    layer.group_send = mock.AsyncMock(side_effect=ConnectionError("redis is down"))
    with mock.patch("webapp.searches.realtime.get_channel_layer", return_value=layer):
        Emitter(DbChannelSink(search.pk)).emit("log", level="info", message="kept")
    assert layer.group_send.await_count == 1
    assert SearchEvent.objects.get(search=search).payload["message"] == "kept"


def test_the_push_goes_to_the_search_group(search) -> None:
    layer = mock.Mock()
    layer.group_send = mock.AsyncMock()
    with mock.patch("webapp.searches.realtime.get_channel_layer", return_value=layer):
        Emitter(DbChannelSink(search.pk)).emit("log", level="info", message="x")
    group, message = layer.group_send.await_args.args
    assert group == f"search-{search.pk}"
    assert message["type"] == "search.event" and message["seq"] == 1
    assert json.loads(message["text"]) == SearchEvent.objects.get(search=search).to_dict()


def test_summary_fields_follow_the_events(search) -> None:
    sink = DbChannelSink(search.pk)
    sink.set_stage(0.0, 0.5, eta_extra=100.0)
    emitter = Emitter(sink)
    with mock.patch("webapp.searches.realtime.publish"):
        emitter.emit("status", status="running", message="search started on cpu")
        emitter.emit("progress", phase="searching", fraction=0.5, eta_seconds=10.0, epoch=1,
                     archs_evaluated=3, elapsed_seconds=10.0)
        emitter.emit("best", step=3, architecture={"space": "nb201"}, reward=91.5, graph={"cells": []})
    search.refresh_from_db()
    assert (search.progress, search.phase, search.eta_seconds) == (0.25, "searching", 110.0)
    assert search.message == "search started on cpu"
    assert search.best["reward"] == 91.5 and search.best["architecture"] == {"space": "nb201"}
    assert search.last_seq == 3


def test_truncate_after_drops_later_events(search) -> None:
    sink = DbChannelSink(search.pk)
    with mock.patch("webapp.searches.realtime.publish"):
        for _ in range(5):
            Emitter(sink, last_seq=sink.last_seq).emit("log", level="info", message="x")
    sink.truncate_after(2)
    assert list(SearchEvent.objects.filter(search=search).values_list("seq", flat=True)) == [1, 2]
    search.refresh_from_db()
    assert search.last_seq == 2 and sink.last_seq == 2


def test_progress_events_carry_the_whole_runs_view_across_stages(search) -> None:
    """Search then final training on one bar: it never goes back, the ETA includes the final
    budget during the search, and elapsed time keeps counting through the final stage."""
    sink = DbChannelSink(search.pk)
    emitter = Emitter(sink)

    def progress(phase: str, fraction: float, eta: float | None, elapsed: float) -> dict:
        emitter.emit("progress", phase=phase, fraction=fraction, eta_seconds=eta, epoch=1,
                     archs_evaluated=5, elapsed_seconds=elapsed)
        return SearchEvent.objects.get(search=search, seq=emitter.last_seq).payload

    with mock.patch("webapp.searches.realtime.publish") as pushed:
        sink.set_stage(0.0, 0.8, eta_extra=30.0)
        first = progress("searching", 0.5, 20.0, 20.0)
        sink.set_stage(0.8, 1.0, elapsed_before=41.0)
        early = progress("final", 0.0, None, 0.5)
        late = progress("final", 0.5, 10.0, 10.0)
    assert (first["overall_fraction"], first["overall_eta_seconds"], first["total_elapsed_seconds"]) == (
        0.4, 50.0, 20.0)
    assert first["fraction"] == 0.5  # the stage's own view stays
    assert (early["overall_fraction"], early["overall_eta_seconds"], early["total_elapsed_seconds"]) == (
        0.8, None, 41.5)
    assert (late["overall_fraction"], late["total_elapsed_seconds"]) == (0.9, 51.0)
    assert pushed.call_args.args[1]["payload"] == late  # viewers get what was stored
    search.refresh_from_db()
    assert (search.progress, search.eta_seconds) == (0.9, 10.0)


def test_the_overall_fraction_never_goes_back(search) -> None:
    sink = DbChannelSink(search.pk)
    emitter = Emitter(sink)
    with mock.patch("webapp.searches.realtime.publish"):
        for fraction in (0.3, 0.6, 0.2):  # e.g. a stage whose estimate was revised downwards
            emitter.emit("progress", phase="final", fraction=fraction, eta_seconds=5.0, epoch=1,
                         archs_evaluated=0, elapsed_seconds=1.0)
    rows = SearchEvent.objects.filter(search=search).order_by("seq")
    stored = [e.payload["overall_fraction"] for e in rows]
    assert stored == [0.3, 0.6, 0.6]


def test_truncation_tells_open_websockets_to_rewind(search) -> None:
    sink = DbChannelSink(search.pk)
    with mock.patch("webapp.searches.realtime.publish"):
        for _ in range(4):
            Emitter(sink, last_seq=sink.last_seq).emit("log", level="info", message="x")
    layer = mock.Mock()
    layer.group_send = mock.AsyncMock()
    with mock.patch("webapp.searches.realtime.get_channel_layer", return_value=layer):
        sink.truncate_after(2)
        sink.truncate_after(2)  # nothing left to drop: nobody to tell
    assert layer.group_send.await_count == 1
    assert layer.group_send.await_args.args == (f"search-{search.pk}", {"type": "search.rewind", "seq": 2})


def test_a_worker_that_lost_its_lease_writes_nothing_more(search) -> None:
    """Another worker claimed the search: the old one's events must not take the new one's seqs."""
    Search.objects.filter(pk=search.pk).update(lease_owner="new-worker")
    old = DbChannelSink(search.pk, lease_owner="old-worker")
    with mock.patch("webapp.searches.realtime.publish") as pushed:
        Emitter(old).emit("status", status="search_ended", message="late")
        Emitter(old, last_seq=1).emit("log", level="info", message="later")
    assert old.lease_lost and not pushed.called
    assert not SearchEvent.objects.filter(search=search).exists()
    search.refresh_from_db()
    assert search.phase != "search_ended" and search.last_seq == 0

    current = DbChannelSink(search.pk, lease_owner="new-worker")
    with mock.patch("webapp.searches.realtime.publish") as pushed:
        Emitter(current).emit("log", level="info", message="mine")
    assert pushed.called and SearchEvent.objects.get(search=search, seq=1).payload["message"] == "mine"
