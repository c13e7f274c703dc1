"""A language run that learned nothing (``training.lm_verdict``) on the results page: failed, with
the perplexity, the unigram baseline and the threshold, never the image chance wording."""

from __future__ import annotations

from tests.webapp.pages.test_pages_language import lm_search  # noqa: F401  (fixture)
from webapp.searches.models import Search, TrainedModel

VERDICT = {"above_chance": False, "learned": False, "test_perplexity": 585.9, "unigram_perplexity": 345.9,
           "uniform_perplexity": 576, "baseline_perplexity": 345.9, "threshold": 311.3, "test_tokens": 200,
           "reason": "The final model learned nothing beyond word frequencies: test perplexity 585.9 is not "
                     "below 0.9 × the unigram baseline 345.9"}


def test_the_results_page_says_the_language_model_learned_nothing(client_a, lm_search):  # noqa: F811
    model = TrainedModel.objects.get(search=lm_search)
    model.metrics = {**model.metrics, "test_perplexity": 585.9, "verdict": VERDICT}
    model.save()
    lm_search.status, lm_search.message = Search.FAILED, f"{VERDICT['reason']}: the search learned nothing " \
                                                         "useful. Try a budget of at least 10 minutes."
    lm_search.save()
    html = client_a.get(f"/searches/{lm_search.pk}/results").content.decode()
    warning = html[html.index('id="chance-warning"'):]
    warning = warning[:warning.index("</div>")]
    assert "Failed: the final model learned nothing beyond word frequencies." in warning
    assert "Try a budget of at least 10 minutes." in warning
    assert "Test perplexity 585.9 on 200 tokens" in warning and "scores 345.9" in warning
    assert "uniform guessing 576" in warning and "below 311.3 needed" in warning
    assert "Validation accuracy" not in warning and "chance level" not in warning


def test_a_language_model_that_learned_shows_no_warning(client_a, lm_search):  # noqa: F811
    html = client_a.get(f"/searches/{lm_search.pk}/results").content.decode()
    assert 'id="chance-warning"' not in html
