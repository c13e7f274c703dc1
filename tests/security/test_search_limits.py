"""Issue 11 item 1: one account firing a burst of launches at both web processes gets exactly its share.

The probe: one account created 30 searches in 0.7 s and the next user waited at queue position 30.
Here 16 launches go at once to the real stack (two uvicorn processes, one SQLite file, no Celery
worker, so every accepted search stays queued): exactly ``SEARCH_MAX_ACTIVE_PER_USER`` (default 6)
are stored, the rest are 429 with a message, and another user still gets in.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.stack import LiveStack

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TABLE = {"space": "nb201", "controller": "random", "evaluator": "benchmark", "budget": {"max_archs": 20}}
DEFAULT_MAX_ACTIVE = 6
BURST = 16


def test_a_burst_of_launches_stores_only_the_users_share(guarded_stack: LiveStack) -> None:
    api = guarded_stack.api(guarded_stack.create_user("flooder", "correct-horse-42"))
    with ThreadPoolExecutor(max_workers=BURST) as pool:
        answers = list(pool.map(lambda _: api.post("/api/searches/", TABLE), range(BURST)))
    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] * DEFAULT_MAX_ACTIVE + [429] * (BURST - DEFAULT_MAX_ACTIVE), answers
    for status, body in answers:
        if status == 429:
            assert f"at most {DEFAULT_MAX_ACTIVE} may be at once" in body["error"], body
    status, listed = api.get("/api/searches/")
    assert status == 200 and len(listed["searches"]) == DEFAULT_MAX_ACTIVE
    assert {s["status"] for s in listed["searches"]} == {"queued"}

    other = guarded_stack.api(guarded_stack.create_user("patient", "correct-horse-43"))
    status, body = other.post("/api/searches/", TABLE)
    assert status == 201, body
