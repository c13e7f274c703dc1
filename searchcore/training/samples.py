"""Sample generations from a trained language model: a few prompts continued word by word.

Prompts are the first words of the first test lines (real text the model never trained on); each
continuation is sampled with a seeded generator at a temperature below 1 (greedy decoding of a
small model repeats one frequent word), stopping at ``<eos>``. Runs on the CPU from a finished
training folder (``load_trained``), so the worker calls it once after final training.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from searchcore.training.io import load_trained

PROMPTS = 3
PROMPT_WORDS = 3
CONTINUATION_WORDS = 15
TEMPERATURE = 0.8


def prompts_from(ids: Tensor, vocab: list[str], eos: str, count: int = PROMPTS,
                 words: int = PROMPT_WORDS) -> list[str]:
    """The first ``words`` words of the first ``count`` lines of a token stream that have more."""
    found: list[str] = []
    line: list[str] = []
    for token in ids.tolist():
        word = vocab[token]
        if word != eos:
            line.append(word)
            continue
        if len(line) > words:
            found.append(" ".join(line[:words]))
            if len(found) == count:
                break
        line = []
    return found


@torch.no_grad()
def generate(train_dir: Path, prompts: list[str], *, words: int = CONTINUATION_WORDS,
             temperature: float = TEMPERATURE, seed: int = 0) -> list[dict[str, Any]]:
    """``[{"prompt", "continuation", "unknown"}]``: each prompt read after ``<eos>`` from a zero
    state, then ``words`` sampled words (fewer when ``<eos>`` comes first)."""
    model, prep, _ = load_trained(Path(train_dir))
    if not callable(getattr(model, "run_state", None)):
        raise ValueError("the trained model is not a language model")
    vocab: list[str] = list(prep["vocab"])
    index = {w: i for i, w in enumerate(vocab)}
    eos, unk = prep["eos"], prep.get("unk")
    generator = torch.Generator().manual_seed(seed)
    return [_continue(model, vocab, index, eos, unk, prompt, words, temperature, generator)
            for prompt in prompts]


def _continue(model: Any, vocab: list[str], index: dict[str, int], eos: str, unk: str | None, prompt: str,
              words: int, temperature: float, generator: torch.Generator) -> dict[str, Any]:
    ids, unknown = [index[eos]], []
    for word in prompt.split():
        if word in index:
            ids.append(index[word])
        else:
            unknown.append(word)
            if unk is not None:
                ids.append(index[unk])
    logits, hidden = model.run_state(torch.tensor(ids).view(-1, 1))
    out: list[str] = []
    for _ in range(words):
        probs = torch.softmax(logits[-1, 0].float() / temperature, dim=-1)
        token = int(torch.multinomial(probs, 1, generator=generator))
        if vocab[token] == eos:
            break
        out.append(vocab[token])
        logits, hidden = model.run_state(torch.tensor([[token]]), hidden)
    return {"prompt": prompt, "continuation": " ".join(out), "unknown": unknown}


__all__ = ["generate", "prompts_from"]
