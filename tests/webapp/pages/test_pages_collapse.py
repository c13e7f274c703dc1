"""The results and live pages flag a final model at chance and a degenerate best architecture."""

from __future__ import annotations

from searchcore.training.verdict import at_chance_message, chance_verdict
from webapp.searches.models import Search, TrainedModel

REASON = "the normal cell has no operation with weights: it uses only identity"
COLLAPSED = {"space": "enas-micro", "normal": [[0, "identity", 0, "identity"]] * 2,
             "reduce": [[0, "max3", 1, "max3"]] * 2}
AT_CHANCE = chance_verdict(0.1, list(range(2)) * 50, 2)  # 10 % on 100 images of 2 classes (chance 50 %)


def _finish(search: Search, *, status: str, message: str, degenerate: list[str], verdict: dict) -> None:
    best = {"reward": 0.1, "architecture": COLLAPSED, "degenerate": degenerate}
    Search.objects.filter(pk=search.pk).update(status=status, message=message, best=best)
    TrainedModel.objects.create(search=search, metrics={"test_accuracy": 0.1, "verdict": verdict},
                                package="searches/1/package.zip")


def test_results_of_a_run_at_chance_say_so_and_still_offer_the_package(client_a, search):
    message = at_chance_message(AT_CHANCE, 90.0)
    _finish(search, status=Search.FAILED, message=message, degenerate=[REASON], verdict=AT_CHANCE)
    html = client_a.get(f"/searches/{search.pk}/results").content.decode()
    assert 'id="chance-warning"' in html and "the final model is at chance level" in html
    assert message in html and "chance 50.0 %" in html and "at least 60.0 %" in html
    assert "The search failed" not in html  # one box, not two
    assert 'id="collapse-warning"' in html and REASON in html
    assert f'href="/api/searches/{search.pk}/package"' in html


def test_results_of_a_sound_run_above_chance_warn_of_nothing(client_a, search):
    fine = chance_verdict(0.9, list(range(2)) * 50, 2)
    _finish(search, status=Search.SUCCEEDED, message="done", degenerate=[], verdict=fine)
    html = client_a.get(f"/searches/{search.pk}/results").content.decode()
    assert 'id="chance-warning"' not in html and 'id="collapse-warning"' not in html


def test_the_live_page_shows_the_collapse_badge_of_the_best_so_far(client_a, search):
    page = f"/searches/{search.pk}/"
    assert 'id="collapse-badge" class="alert warn small" hidden' in client_a.get(page).content.decode()
    Search.objects.filter(pk=search.pk).update(best={"reward": 0.1, "degenerate": [REASON, "second"]})
    html = client_a.get(page).content.decode()
    assert f'id="collapse-badge" class="alert warn small">collapse: {REASON}; second</p>' in html
