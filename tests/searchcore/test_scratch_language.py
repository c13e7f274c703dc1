"""The ``scratch`` evaluator on a language space (issue 9 item 3): a ``nas-rl-rnn`` child trained on
its own by truncated BPTT, reward ``80 / validation perplexity``, on the committed tiny corpus."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import torch

from searchcore.compat import combination_errors
from searchcore.data import load_task_data
from searchcore.evaluators import (
    EvaluatorContext,
    InProcessExecutor,
    Job,
    JobHooks,
    create_evaluator,
    run_job,
)
from searchcore.evaluators.data_ref import data_reference, forget_all
from searchcore.evaluators.executor import JobCancelled
from searchcore.evaluators.scratch_job import ChildSettings
from searchcore.evaluators.scratch_language import WORST_PERPLEXITY, language_metrics
from searchcore.evaluators.shared_language import REWARD_C
from searchcore.spaces import create_space
from searchcore.spaces.base import LANGUAGE
from searchcore.training.loop import LoopOutcome

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CORPUS = FIXTURES / "wikitext2_tiny.txt"
OPTIONS = {"leaves": 2, "hidden_size": 16}


@pytest.fixture(scope="module")
def corpus() -> Any:
    return load_task_data(LANGUAGE, CORPUS, seed=0)


def _arch(seed: int = 0) -> dict[str, Any]:
    space = create_space("nas-rl-rnn", **OPTIONS)
    return space.arch_to_json(space.sample_random(torch.Generator().manual_seed(seed)))


def _context(corpus: Any, space: str = "nas-rl-rnn") -> EvaluatorContext:
    return EvaluatorContext(space=create_space(space, **OPTIONS if space == "nas-rl-rnn" else {}),
                            device=torch.device("cpu"), seed=0, data=corpus, batch_size=4,
                            data_ref=data_reference(LANGUAGE, CORPUS, corpus, 0),
                            executor=InProcessExecutor())


def test_scratch_serves_language_spaces_on_a_text_dataset_only():
    assert combination_errors("nas-rl-rnn", "scratch", dataset_kind=LANGUAGE) == {}
    assert combination_errors("nas-rl-rnn", "shared", dataset_kind=LANGUAGE) == {}
    assert "dataset" in combination_errors("nas-rl-rnn", "scratch", dataset_kind="image")


def test_a_language_child_job_runs_from_its_json_alone_and_repeats_exactly(corpus: Any) -> None:
    settings = ChildSettings(space_options=OPTIONS, data=data_reference(LANGUAGE, CORPUS, corpus, 0), seed=3,
                             epochs=2, batch_size=4, lr=20.0, weight_decay=1.2e-6)
    wire = json.loads(json.dumps(Job("scratch", _arch(), settings.to_dict()).to_dict()))
    forget_all()  # the job loads the corpus from its reference
    first, second = run_job(wire), run_job(wire)
    assert set(first) == {"reward", "valid_perplexity", "valid_accuracy", "seconds", "epochs"}
    assert first["epochs"] == 2.0 and 1.0 < first["valid_perplexity"] < len(corpus.vocab) * 2
    assert first["reward"] == pytest.approx(REWARD_C / first["valid_perplexity"])
    assert (first["reward"], first["valid_accuracy"]) == (second["reward"], second["valid_accuracy"])


def test_a_stop_reaches_inside_a_language_child(corpus: Any) -> None:
    settings = ChildSettings(space_options=OPTIONS, data=data_reference(LANGUAGE, CORPUS, corpus, 0), seed=3,
                             epochs=50, batch_size=4)
    calls = []

    def stop() -> bool:
        calls.append(1)
        return len(calls) > 3  # a few windows in, long before 50 epochs

    with pytest.raises(JobCancelled):
        run_job(Job("scratch", _arch(), settings.to_dict()), JobHooks(should_stop=stop))


def test_the_evaluator_uses_language_defaults_and_scores_children(corpus: Any) -> None:
    evaluator = create_evaluator("scratch", context=_context(corpus), child_epochs=1)
    assert (evaluator.settings.lr, evaluator.settings.weight_decay) == (20.0, 1.2e-6)
    own = create_evaluator("scratch", context=_context(corpus), child_epochs=1, lr=5.0, weight_decay=0.0)
    assert (own.settings.lr, own.settings.weight_decay) == (5.0, 0.0)
    space = evaluator.context.space
    archs = [space.sample_random(torch.Generator().manual_seed(s)) for s in (1, 2)]
    rewards = evaluator.wait(evaluator.submit(archs), lambda: False)
    assert rewards is not None and all(0.0 < r < REWARD_C and math.isfinite(r) for r in rewards)
    assert evaluator.metrics_of(archs[0])["valid_perplexity"] == pytest.approx(REWARD_C / rewards[0])
    again = evaluator.submit(archs)  # scored already: nothing is trained again
    assert again.handle[2] == [] and evaluator.wait(again, lambda: False) == rewards


def test_bad_settings_and_data_are_refused_with_the_reason(corpus: Any) -> None:
    with pytest.raises(ValueError, match="cube_reward cubes a validation accuracy"):
        create_evaluator("scratch", context=_context(corpus), cube_reward=True)
    zip_path = FIXTURES / "cifar10_tiny_png.zip"
    image = load_task_data("image", zip_path, image_size=8, seed=0)
    context = EvaluatorContext(space=create_space("nas-rl-rnn", **OPTIONS), device=torch.device("cpu"),
                               seed=0, data=image, data_ref=data_reference("image", zip_path, image, 0))
    with pytest.raises(ValueError, match="needs a text corpus"):
        create_evaluator("scratch", context=context)
    with pytest.raises(ValueError, match="needs an image dataset"):
        create_evaluator("scratch", context=EvaluatorContext(space=create_space("nas-rl-cnn"),
                                                             device=torch.device("cpu"), seed=0, data=corpus))


def test_a_diverged_child_scores_about_zero_instead_of_nan():
    rows = [{"valid_perplexity": math.nan, "valid_accuracy": 0.0}, {"valid_perplexity": 300.0,
                                                                    "valid_accuracy": 0.1}]
    outcome = LoopOutcome(status="succeeded", epochs_run=2, epochs_planned=2, history=rows)
    assert language_metrics(outcome, 5) == {"reward": REWARD_C / 300.0, "valid_perplexity": 300.0,
                                            "valid_accuracy": 0.1}
    only_nan = LoopOutcome(status="succeeded", epochs_run=1, epochs_planned=1, history=rows[:1])
    assert language_metrics(only_nan, 5)["reward"] == REWARD_C / WORST_PERPLEXITY
    with pytest.raises(ValueError, match="not validated"):
        language_metrics(LoopOutcome(status="succeeded", epochs_run=0, epochs_planned=1), 5)
