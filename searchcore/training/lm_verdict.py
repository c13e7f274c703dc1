"""Whether a language model learned anything: its perplexity against the unigram baseline.

The image verdict (``training.verdict``) compares validation accuracy with chance. For a language
model the "chance" level is the perplexity of a model that knows only how often each word occurs
in the training split (the unigram model, ``lm.unigram_perplexity``), or of uniform guessing (the
vocabulary size) when that is lower. A model has *learned* when its test perplexity is below
``LEARNED_FRACTION`` (0.9) of that baseline.

Why 0.9: word frequencies are the first thing any language model picks up (a few hundred steps),
so a model at about the unigram perplexity has learned nothing from context, which is the whole
point of the recurrent cell; a model that uses even one word of context is far below it (a bigram
model on PTB is about 0.5x the unigram perplexity, ENAS' cell 0.08x). A 10 % margin keeps a model
that only re-learned the frequencies, plus luck on a small test split (the test perplexity of the
same model moves a few percent between splits of a few thousand tokens), from passing, while any
model that learned some context passes easily.

The search phase uses the same rule on the supernet's per-epoch validation perplexity
(``child_train``'s ``valid_perplexity`` vs ``baseline_perplexity``): while it is not below 0.9x the
baseline, the rewards (``80 / ppl``) are noise and the live page says so.
"""

from __future__ import annotations

import math
from typing import Any

LEARNED_FRACTION = 0.9


def baseline_perplexity(unigram: float, vocab_size: int) -> float:
    """The better of the two models that use no context: unigram frequencies or uniform guessing."""
    return min(float(unigram), float(vocab_size))


def perplexity_verdict(test_perplexity: float, unigram: float, vocab_size: int,
                       test_tokens: int) -> dict[str, Any]:
    """``{above_chance, learned, test_perplexity, unigram_perplexity, uniform_perplexity,
    baseline_perplexity, threshold, test_tokens, reason}``; ``above_chance`` is the key the worker
    and the pages read for every kind (the image verdict's), ``reason`` a sentence when the model
    learned nothing, else ``None``."""
    baseline = baseline_perplexity(unigram, vocab_size)
    threshold = LEARNED_FRACTION * baseline
    learned = math.isfinite(test_perplexity) and test_perplexity < threshold
    reason = None if learned else (
        f"The final model learned nothing beyond word frequencies: test perplexity {test_perplexity:.1f} "
        f"is not below {LEARNED_FRACTION:g} × the unigram baseline {baseline:.1f}")
    return {"above_chance": learned, "learned": learned, "test_perplexity": test_perplexity,
            "unigram_perplexity": round(float(unigram), 4), "uniform_perplexity": vocab_size,
            "baseline_perplexity": round(baseline, 4), "threshold": round(threshold, 4),
            "test_tokens": test_tokens, "reason": reason}


__all__ = ["LEARNED_FRACTION", "baseline_perplexity", "perplexity_verdict"]
