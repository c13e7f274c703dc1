"""The word-level language-model final trainer: truncated BPTT, perplexity, next-word accuracy.

Data: a text corpus (``data.text``: one ``.txt`` split 80/10/10 by lines, or train/valid/test
files), ``DEFAULT_SEQ_LEN`` tokens per window. Batches: the stream cut into ``batch_size`` columns
(``batchify``); validation and test are read with ``EVAL_BATCH`` columns and the state carried
(pytorch/examples ``word_language_model``); after each epoch only the first ``VALID_TOKENS`` of the
validation stream are read (``valid_perplexity`` in ``history``), the test split is read whole.
Metrics: ``test_perplexity`` (the headline),
``test_loss`` (nats per token) and ``test_accuracy`` (next word, top 1) of the kept weights (the
best validation perplexity); the curve is ``history`` (``perplexity``/``valid_perplexity`` per epoch).

Recipe: the language kind's own final-training settings (``training.language_settings``: ENAS'
PTB training, SGD lr 20 without momentum, clip 0.25; weight decay 1.2e-6 as AWD-LSTM; BPTT 35),
filled in by ``train_final`` where the config leaves them None. There is no mapping of image values:
a value given is used as given. ``metrics["recipe"]`` records what was used.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file
from torch import nn

from searchcore.data.tasks import DEFAULT_SEQ_LEN, LanguageData, load_task_data
from searchcore.data.text import EOS, UNK, batchify
from searchcore.events import Emitter
from searchcore.spaces.base import LANGUAGE
from searchcore.training.language_loop import LanguageLoop
from searchcore.training.language_settings import LANGUAGE_FINAL_SCHEMA
from searchcore.training.lm import cpu_threads, stream_metrics, unigram_perplexity, windows
from searchcore.training.lm_verdict import perplexity_verdict
from searchcore.training.loop import LoopSettings
from searchcore.training.trainers import register_trainer

EVAL_BATCH = 10  # columns of the validation/test streams (pytorch/examples' eval_batch_size)
# Tokens of the validation stream read after each epoch to pick the best weights (from its start):
# the whole WikiText-2 validation split (217k tokens, 33k-word softmax) took 6 minutes per pass on
# the 2-core CI box, longer than a 2-minute training budget. The test split is always read whole.
VALID_TOKENS = 20_000
SAMPLE_COLUMNS = 2


def recipe(config: Any) -> dict[str, Any]:
    """The optimiser settings used (``config`` as ``train_final`` resolved it for this kind)."""
    return {"optimizer": "sgd", "momentum": 0.0, "lr": float(config.lr), "grad_clip": float(config.grad_clip),
            "weight_decay": float(config.weight_decay), "bptt": int(config.bptt or DEFAULT_SEQ_LEN)}


@register_trainer(LANGUAGE)
class LanguageTrainer:
    kind = LANGUAGE
    final_schema = LANGUAGE_FINAL_SCHEMA

    def load_data(self, config: Any) -> LanguageData:
        if config.test_data is not None:
            raise ValueError("a language model is tested on its corpus's own test split; a separate test "
                             "set (test_data) is only for images")
        return load_task_data(LANGUAGE, config.data, seq_len=int(config.bptt or DEFAULT_SEQ_LEN))

    def prepare_model(self, model: nn.Module, config: Any) -> nn.Module:
        if not callable(getattr(model, "run_state", None)):
            raise ValueError(f"{type(model).__name__} has no run_state(x, hidden): not a language model")
        return model

    def make_loop(self, model: nn.Module, config: Any, data: LanguageData, device: torch.device,
                  generator: torch.Generator, settings: LoopSettings, emitter: Emitter,
                  should_stop: Callable[[], bool]) -> LanguageLoop:
        settings = dataclasses.replace(settings, drop_path=0.0, cutout=0)
        train = windows(_stream(data.train, config.batch_size, "train", device), data.seq_len)
        valid = windows(_stream(data.valid, EVAL_BATCH, "valid", device), data.seq_len)
        valid = valid[:max(1, VALID_TOKENS // (EVAL_BATCH * data.seq_len))]
        return LanguageLoop(model, train, valid, settings, emitter, should_stop, generator)

    @torch.no_grad()
    def evaluate(self, model: nn.Module, config: Any, data: LanguageData,
                 device: torch.device) -> dict[str, Any]:
        """Test perplexity of the kept weights, in float32, the state carried. (Their validation
        perplexity is the ``history`` row of ``best_epoch``: not computed twice, a pass over a large
        vocabulary costs minutes on a CPU.)"""
        model.eval()
        with cpu_threads(device):  # see training.lm.CPU_THREADS
            test = stream_metrics(model.run_state, windows(_stream(data.test, EVAL_BATCH, "test", device),
                                                           data.seq_len))
        return {"test_perplexity": round(float(test["perplexity"]), 4), "test_loss": float(test["loss"]),
                "test_accuracy": float(test["accuracy"]), "test_tokens": int(test["tokens"]),
                "evaluated_on": "test", "vocab_size": len(data.vocab), "recipe": recipe(config)}

    def verdict(self, metrics: dict[str, Any], data: LanguageData) -> dict[str, Any]:
        """Did it learn? Test perplexity against the training split's unigram baseline
        (``training.lm_verdict``); the run fails when it did not."""
        vocab = len(data.vocab)
        unigram = unigram_perplexity(data.train, data.test, vocab)
        return perplexity_verdict(metrics["test_perplexity"], unigram, vocab, metrics["test_tokens"])

    def preprocessing(self, data: LanguageData, config: Any) -> dict[str, Any]:
        """What ``predict.py`` needs: the vocabulary (id order) and how a text becomes ids."""
        return {"task": data.task().to_dict(), "vocab": list(data.vocab), "eos": EOS,
                "unk": UNK if UNK in data.vocab else None,
                "tokenizer": "whitespace: line.split() + ['<eos>'] per line (pytorch/examples)",
                "layout": "(seq_len, batch) token ids"}

    def write_samples(self, out: Path, data: LanguageData) -> None:
        """A window of real test tokens, ``(seq_len, SAMPLE_COLUMNS)``, to verify the export on."""
        stream = data.test if data.test.numel() >= 2 * SAMPLE_COLUMNS else data.valid
        rows = min(data.seq_len, stream.numel() // SAMPLE_COLUMNS)
        tokens = batchify(stream, SAMPLE_COLUMNS)[:rows].contiguous()
        save_file({"tokens": tokens}, str(out / "test_samples.safetensors"))


def _stream(ids: torch.Tensor, columns: int | None, name: str, device: torch.device) -> torch.Tensor:
    columns = max(1, min(int(columns or 1), ids.numel() // 2 or 1))  # a tiny split still gives 2 rows
    if ids.numel() < 2:
        raise ValueError(f"the {name} split has {ids.numel()} token(s); a language model needs at least 2")
    return batchify(ids, columns).to(device)
