"""Plan a language-model run from its budget: the search's supernet and the final child (issue 9).

The image planner (``planner``) chooses among channel/cell rungs; a recurrent language model is
sized by ``hidden_size`` (embedding = hidden width, tied) and fed ``batch`` parallel token streams
read in windows of ``bptt`` tokens. As for images, the real step cost is measured on this device
at the run's own batch (``costs.measure_step``: the supernet for the search, a child for final
training; the tests inject ``measure``), smallest hidden size first, and the largest size that
still buys the minimum learning is kept; sizes the user set are kept as they are.

What an epoch costs: one pass over the training tokens, ``ceil(train_tokens / batch / bptt)``
training steps; the search adds per epoch its controller steps (one validation window each) and
its per-epoch validation (``FULL_SCORE_WINDOWS`` windows), and once derive's candidates (at most
``MAX_DERIVE_SHARE`` of the budget); final training adds one pass over the validation tokens
it reads (``language.VALID_TOKENS``) per epoch.

Minimums (why not the image ones): a language epoch is a whole pass over a corpus (WikiText-2:
2 million tokens, about 900 steps at batch 64) where an image proxy's epoch is a few hundred
small images, so ten of them is not the bar. ``MIN_LM_SEARCH_EPOCHS`` = 2: the first pass takes
the shared weights past the unigram level (``child_train.at_noise_level``), the second gives the
controller rewards worth learning from; and the controller still needs ``MIN_CONTROLLER_STEPS``
(100) updates. Final training needs ``MIN_LM_FINAL_EPOCHS`` = 5 passes *or* ``MIN_LM_FINAL_STEPS`` =
500 steps, whichever comes first: on the tiny test corpus (8 steps a pass) 1 epoch left the model at
the unigram level and 3 got below 0.9 x of it (``training.lm_verdict``), 5 leaves a margin; on
WikiText-2 (about 900 steps a pass) passes are the wrong bar: with 10 minutes of this CPU the
epochs rule shrank the child to hidden 32 (5 passes, test perplexity 294) where hidden 200 in under
one pass reached 210 (``bench.language``, BENCHMARKS.md), so a few hundred steps of the larger
model are what to buy.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

from searchcore.planning.ladder import fixed_by_user
from searchcore.planning.plan import FinalPlan, SearchPlan
from searchcore.planning.planner import MIN_CONTROLLER_STEPS, Measure, _largest_that_fits, format_minutes
from searchcore.search.schedule import ALWAYS_SCORED, MAX_DERIVE_SHARE
from searchcore.spaces import TaskSpec, space_class

MIN_LM_SEARCH_EPOCHS = 2
MIN_LM_FINAL_EPOCHS = 5
MIN_LM_FINAL_STEPS = 500  # or this many training steps, when passes are long (see the module doc)
MAX_LM_BATCH = 64  # ENAS' PTB search batch
MIN_LM_STEPS_PER_EPOCH = 8  # a small corpus gets fewer streams rather than fewer steps
SCORE_WINDOWS = 10  # evaluators.shared_language.FULL_SCORE_WINDOWS (not imported: no evaluator here)
FINAL_VALID_TOKENS = 20_000  # training.language.VALID_TOKENS
FINAL_EVAL_BATCH = 10  # training.language.EVAL_BATCH
PROXY_HIDDEN = (32, 64, 128, 200)  # the search's supernet
CHILD_HIDDEN = (32, 64, 128, 200, 400, 720)  # the final child (ENAS' PTB search: 720)


def hidden_ladder(space: str, rungs: tuple[int, ...]) -> list[dict[str, int]]:
    """``hidden_size`` rungs within the space's declared range ([] when it has no such option)."""
    options = {o.name: o for o in space_class(space).schema.options}
    option = options.get("hidden_size")
    if option is None:
        return []
    low = option.minimum if option.minimum is not None else 1
    high = option.maximum if option.maximum is not None else max(rungs)
    return [{"hidden_size": h} for h in rungs if low <= h <= high]


def planned_lm_batch(train_tokens: int, bptt: int, given: int | None) -> int:
    """The user's streams, else up to ``MAX_LM_BATCH`` so an epoch keeps ``MIN_LM_STEPS_PER_EPOCH`` steps."""
    if given:
        return int(given)
    return max(1, min(MAX_LM_BATCH, train_tokens // max(bptt * MIN_LM_STEPS_PER_EPOCH, 1)))


def steps_per_pass(tokens: int, batch: int, bptt: int) -> int:
    """Windows of one pass over ``tokens`` cut into ``batch`` streams (``lm.windows``)."""
    rows = max(tokens // max(batch, 1), 2)
    return max(1, math.ceil((rows - 1) / bptt))


def plan_language_search(space: str, space_options: dict[str, Any], task: TaskSpec, *, train_tokens: int,
                         valid_tokens: int, budget_seconds: float, batch_size: int | None,
                         controller_steps_per_epoch: int, derive_samples: int,
                         measure: Measure) -> SearchPlan:
    """The supernet's hidden size and streams for a time budget (``task.seq_len`` is the BPTT window)."""
    started = time.perf_counter()
    bptt = task.seq_len
    batch = planned_lm_batch(train_tokens, bptt, batch_size)
    train_steps = steps_per_pass(train_tokens, batch, bptt)
    score_windows = min(SCORE_WINDOWS, steps_per_pass(valid_tokens, batch, bptt))
    derive: dict[str, float] = {}

    def cost(rung: dict[str, Any]) -> tuple[float, float]:
        timing = measure(space, {**space_options, **rung}, task, True, batch)
        forward = timing.forward_seconds(batch)
        scored = controller_steps_per_epoch + score_windows  # reward windows + the epoch's validation
        epoch = train_steps * timing.train_seconds(batch) + scored * forward
        key = json.dumps(rung, sort_keys=True)
        derive[key] = min((derive_samples + ALWAYS_SCORED) * score_windows * forward,
                          MAX_DERIVE_SHARE * budget_seconds)
        left = budget_seconds - derive[key] - (time.perf_counter() - started)
        return epoch, max(left, 0.0) / max(epoch, 1e-9)

    needed = max(MIN_LM_SEARCH_EPOCHS, math.ceil(MIN_CONTROLLER_STEPS / max(controller_steps_per_epoch, 1)))

    def fits(epochs: float) -> bool:
        return epochs >= needed

    rungs = fixed_by_user(hidden_ladder(space, PROXY_HIDDEN), space_options) or [{}]
    rung, epoch, epochs, measured = _largest_that_fits(rungs, cost, fits)
    spent = derive[json.dumps(rung, sort_keys=True)]
    minimum = needed * measured[0]["seconds_per_epoch"] + spent
    steps = int(epochs * controller_steps_per_epoch)
    meaningful = fits(epochs)
    details = {"bptt": bptt, "tokens_per_epoch": train_steps * batch * bptt,
               "train_steps_per_epoch": train_steps}
    message = _search_message(rung, batch, details, epochs, steps, needed, meaningful, minimum)
    return SearchPlan(space_options=rung, batch_size=batch, seconds_per_epoch=round(epoch, 3),
                      epochs=round(epochs, 2), controller_steps=steps, derive_seconds=round(spent, 2),
                      meaningful=meaningful, minimum_budget_seconds=round(minimum, 1), message=message,
                      measured=[{**m, **details} for m in measured])


def plan_language_final(space: str, space_options: dict[str, Any], task: TaskSpec, *, train_tokens: int,
                        valid_tokens: int, budget_seconds: float, batch_size: int | None,
                        given: dict[str, Any], measure: Measure) -> FinalPlan:
    """The final child's hidden size and streams; ``given``: the user's own ``hidden_size``."""
    bptt = task.seq_len
    batch = planned_lm_batch(train_tokens, bptt, batch_size)
    train_steps = steps_per_pass(train_tokens, batch, bptt)
    valid_steps = steps_per_pass(min(valid_tokens, FINAL_VALID_TOKENS), FINAL_EVAL_BATCH, bptt)

    def cost(rung: dict[str, Any]) -> tuple[float, float]:
        timing = measure(space, {**space_options, **rung}, task, False, batch)
        epoch = (train_steps * timing.train_seconds(batch)
                 + valid_steps * timing.forward_seconds(FINAL_EVAL_BATCH))
        return epoch, budget_seconds / max(epoch, 1e-9)

    needed = min(MIN_LM_FINAL_EPOCHS, MIN_LM_FINAL_STEPS / max(train_steps, 1))  # in passes

    def fits(epochs: float) -> bool:
        return epochs >= needed

    rungs = fixed_by_user(hidden_ladder(space, CHILD_HIDDEN), given) or [{}]
    rung, epoch, epochs, measured = _largest_that_fits(rungs, cost, fits)
    minimum = needed * measured[0]["seconds_per_epoch"]
    meaningful = fits(epochs)
    bought = (f"about {epochs:.{0 if epochs >= 2 else 1}f} epochs ({epochs * train_steps:,.0f} steps) of a "
              f"language model of hidden size "
              f"{rung.get('hidden_size', 'as searched')} ({batch} streams, BPTT {bptt})")
    message = (f"Final training gets {bought}." if meaningful else
               f"Final training gets only {bought}: too few to learn more than word frequencies (it needs "
               f"{MIN_LM_FINAL_EPOCHS} epochs or {MIN_LM_FINAL_STEPS} steps). Give final training at least "
               f"{format_minutes(minimum)}.")
    return FinalPlan(overrides=rung, batch_size=batch, seconds_per_epoch=round(epoch, 3),
                     epochs=round(epochs, 2), meaningful=meaningful, minimum_budget_seconds=round(minimum, 1),
                     message=message, measured=measured)


def _search_message(rung: dict[str, Any], batch: int, details: dict[str, int], epochs: float, steps: int,
                    needed: int, meaningful: bool, minimum: float) -> str:
    bought = (f"about {epochs:.1f} passes over the {details['tokens_per_epoch']:,} training tokens and "
              f"{steps} controller steps with a supernet of hidden size {rung.get('hidden_size', 'as set')} "
              f"({batch} streams, BPTT {details['bptt']})")
    if meaningful:
        return f"This budget buys {bought}."
    return (f"This budget buys only {bought}: too little for the controller to learn (it needs {needed} "
            f"passes and {MIN_CONTROLLER_STEPS} steps). Give the search at least {format_minutes(minimum)}.")


__all__ = ["CHILD_HIDDEN", "MIN_LM_FINAL_EPOCHS", "MIN_LM_FINAL_STEPS", "MIN_LM_SEARCH_EPOCHS",
           "PROXY_HIDDEN", "hidden_ladder", "plan_language_final", "plan_language_search", "planned_lm_batch",
           "steps_per_pass"]
