"""The language verdict (``training.lm_verdict``): test perplexity against the unigram baseline."""

from __future__ import annotations

import math

import pytest
import torch

from searchcore.training.lm import unigram_perplexity
from searchcore.training.lm_verdict import LEARNED_FRACTION, perplexity_verdict


def test_the_unigram_perplexity_is_the_frequencies_cross_entropy_add_one_smoothed():
    train = torch.tensor([0, 0, 0, 1])  # counts 3, 1, 0 (+1 each: 4, 2, 1 of 7)
    test = torch.tensor([0, 1, 2])
    expected = math.exp(-(math.log(4 / 7) + math.log(2 / 7) + math.log(1 / 7)) / 3)
    assert unigram_perplexity(train, test, 3) == pytest.approx(expected)
    # equal frequencies: the unigram model is uniform guessing, perplexity = vocabulary size
    assert unigram_perplexity(torch.arange(10).repeat(5), torch.arange(10), 10) == pytest.approx(10.0)


def test_a_model_not_clearly_below_the_baseline_learned_nothing():
    verdict = perplexity_verdict(300.0, unigram=320.0, vocab_size=576, test_tokens=215)
    assert verdict["above_chance"] is False and verdict["learned"] is False
    assert verdict["threshold"] == pytest.approx(LEARNED_FRACTION * 320.0)
    assert verdict["reason"] == ("The final model learned nothing beyond word frequencies: test perplexity "
                                 "300.0 is not below 0.9 × the unigram baseline 320.0")
    passed = perplexity_verdict(287.0, unigram=320.0, vocab_size=576, test_tokens=215)
    assert passed["above_chance"] is True and passed["reason"] is None


def test_uniform_guessing_is_the_baseline_when_it_is_lower_and_a_diverged_model_fails():
    # a tiny split whose unigram model is worse than guessing: the uniform perplexity is the bar
    verdict = perplexity_verdict(95.0, unigram=150.0, vocab_size=100, test_tokens=40)
    assert verdict["baseline_perplexity"] == 100.0 and verdict["above_chance"] is False
    assert perplexity_verdict(float("inf"), unigram=150.0, vocab_size=100, test_tokens=40)["learned"] is False
