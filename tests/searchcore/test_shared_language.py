"""The ``shared`` evaluator on ``enas-rnn``: truncated BPTT windows, training, reward = 80 / perplexity."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from searchcore.compat import combination_errors
from searchcore.data import load_task_data
from searchcore.evaluators import EvaluatorContext, create_evaluator
from searchcore.evaluators.shared_language import FULL_SCORE_WINDOWS, REWARD_C, SharedLanguageEvaluator
from searchcore.spaces import create_space
from searchcore.spaces.base import LANGUAGE
from searchcore.training.lm import lm_loss, stream_metrics, windows

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "wikitext2_tiny.txt"


@pytest.fixture(scope="module")
def corpus():
    return load_task_data(LANGUAGE, CORPUS, seq_len=10)


def evaluator(corpus, **options) -> SharedLanguageEvaluator:
    space = create_space("enas-rnn", num_nodes=4, hidden_size=16)
    context = EvaluatorContext(space=space, device=torch.device("cpu"), seed=0, data=corpus, batch_size=4)
    built = create_evaluator("shared", context=context, **options)
    assert isinstance(built, SharedLanguageEvaluator)
    return built


def sample(space, seed: int):
    return space.sample_random(torch.Generator().manual_seed(seed))


def test_enas_rnn_with_shared_and_a_text_dataset_is_allowed_and_images_are_refused():
    assert combination_errors("enas-rnn", "shared", dataset_kind=LANGUAGE) == {}
    assert "dataset" in combination_errors("enas-rnn", "shared", dataset_kind="image")
    assert combination_errors("enas-rnn", "scratch", dataset_kind=LANGUAGE) == {}  # children on their own


def test_windows_cover_the_stream_once_with_targets_shifted_by_one():
    stream = torch.arange(23).view(23, 1)
    parts = windows(stream, 5)
    assert [len(x) for x, _ in parts] == [5, 5, 5, 5, 2]
    for x, y in parts:
        torch.testing.assert_close(y, x + 1)
    assert torch.cat([x for x, _ in parts]).flatten().tolist() == list(range(22))


def test_language_defaults_are_enas_and_user_options_win(corpus):
    default = evaluator(corpus)
    assert (default.lr, default.grad_clip, default.optimizer.defaults["momentum"]) == (20.0, 0.25, 0.0)
    assert default.train_stream.shape == (corpus.train.numel() // 4, 4)
    own = evaluator(corpus, lr=1.5, grad_clip=1.0, batch_size=2)
    assert (own.lr, own.grad_clip, own.train_stream.size(1)) == (1.5, 1.0, 2)


def test_reward_is_c_over_the_perplexity_of_a_validation_window(corpus):
    ev = evaluator(corpus)
    arch = sample(ev.context.space, 1)
    index = ev.valid_order[0]
    x, y = ev.valid_windows[index]
    ev.net.eval()
    with torch.no_grad():
        expected = REWARD_C / math.exp(float(lm_loss(ev.net(x, arch), y)))
    assert ev.reward(arch) == pytest.approx(expected, rel=1e-5)
    assert ev.valid_cursor == 1
    # an untrained model is close to uniform over the vocabulary: perplexity ~ vocabulary size
    vocab = len(corpus.vocab)
    assert 0.5 * REWARD_C / vocab < ev.reward(arch, full=True) < 2 * REWARD_C / vocab


def test_an_epoch_trains_only_the_sampled_cells_edges_and_lowers_the_loss(corpus):
    ev = evaluator(corpus, lr=5.0)
    space = ev.context.space
    arch = sample(space, 2)
    before = {k: v.clone() for k, v in ev.net.state_dict().items()}
    valid_before = ev.reward(arch, full=True)
    first = ev.train_epoch(lambda: arch)
    assert first.steps == len(ev.train_windows) == ev.steps_per_epoch() and 0.0 <= first.accuracy <= 1.0
    after = ev.net.state_dict()
    used = {f"cell.edges.{j}_{i}.weight" for j, i in arch.edges()}
    edges = {k for k in after if k.startswith("cell.edges.")}
    assert {k for k in edges if not torch.equal(before[k], after[k])} == used
    for _ in range(3):
        last = ev.train_epoch(lambda: arch)
    assert last.loss < first.loss
    assert ev.reward(arch, full=True) > valid_before


def test_state_round_trips_and_a_stop_ends_the_epoch(corpus):
    ev = evaluator(corpus)
    arch = sample(ev.context.space, 3)
    ev.train_epoch(lambda: arch)
    ev.reward(arch)
    other = evaluator(corpus)
    other.load_state_dict(ev.state_dict())
    assert (other.steps, other.valid_cursor) == (ev.steps, ev.valid_cursor)
    assert other.reward(arch) == pytest.approx(ev.reward(arch))
    calls, threads = [], []
    ev.context.should_stop = lambda: len(calls) >= 2
    ev.context.on_step = lambda done, total: (calls.append(done), threads.append(torch.get_num_threads()))
    before = torch.get_num_threads()
    assert ev.train_epoch(lambda: arch).steps == 2
    assert threads == [1, 1] and torch.get_num_threads() == before  # training.lm.CPU_THREADS


def test_a_corpus_too_small_for_the_batch_is_a_clear_error(corpus):
    with pytest.raises(ValueError, match="too small for batch_size 4000"):
        evaluator(corpus, batch_size=4000)


def test_a_full_score_reads_the_first_windows_of_the_validation_stream_with_the_state_carried():
    short = load_task_data(LANGUAGE, CORPUS, seq_len=2)  # 40 validation rows at batch 4: 20 windows
    ev = evaluator(short)
    assert len(ev.valid_windows) == 20 and ev.full_score_batches() == FULL_SCORE_WINDOWS == 10
    arch = sample(ev.context.space, 4)
    ev.net.eval()
    expected = stream_metrics(lambda x, h: ev.net.run_arch(x, arch, h), ev.valid_windows[:10])
    assert ev.reward(arch, full=True) == pytest.approx(REWARD_C / expected["perplexity"], rel=1e-5)


def test_a_diverged_supernet_scores_about_zero_not_nan(corpus):
    """lr 20 on a tiny corpus can blow a cell up: its NaN loss is the perplexity cap, so the reward is a
    finite ~0 and the controller's update stays finite (a NaN reward made its next sample crash)."""
    ev = evaluator(corpus)
    with torch.no_grad():
        for param in ev.net.parameters():
            param.fill_(float("nan"))
    arch = sample(ev.context.space, 1)
    for reward in (ev.reward(arch), ev.reward(arch, full=True)):
        assert math.isfinite(reward) and 0.0 <= reward < 1e-12
