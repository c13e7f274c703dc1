"""``bench.overhead`` on a language space (``enas-rnn``): the shared supernet's step vs its child's.

One real window of WikiText-2 (``/work/shared/data/wikitext-2/``, the product's 10,000-word cap),
``BATCH`` columns x the task's ``seq_len`` (35) tokens, the space at its defaults (12 nodes,
hidden 200, tied, ENAS' dropouts). The shared step is ``SharedLanguageEvaluator._train_step`` (LR
schedule, supernet forward along the sampled cell, loss, backward, clip over all supernet weights,
SGD); the child step is the same recipe (``LANGUAGE_DEFAULTS``: SGD lr 20, no momentum, clip 0.25)
on the standalone child built at the same sizes and loaded from the supernet. Both start each
window from a zero state, so they compute the same function on the same tokens.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from bench._timing import DATA_DIR
from searchcore.data.tasks import load_task_data
from searchcore.data.text import batchify
from searchcore.evaluators import EvaluatorContext, create_evaluator
from searchcore.evaluators.shared_language import LANGUAGE_DEFAULTS
from searchcore.spaces import create_space
from searchcore.spaces.base import LANGUAGE
from searchcore.training.lm import lm_loss, windows

WIKITEXT = DATA_DIR / "wikitext-2"
BATCH = 64  # SearchConfig's batch when none is planned (language searches are not planned)


def load_corpus(path: Path = WIKITEXT) -> Any:
    return load_task_data(LANGUAGE, str(path))


def setup(name: str, seed: int, data: Any | None = None, shared: bool = True
          ) -> tuple[Any, Any, Any, torch.Tensor, torch.Tensor]:
    """(space, data, shared evaluator or None, x, y): the first training window of the stream, cut
    as the evaluator cuts it."""
    data = data if data is not None else load_corpus()
    space = create_space(name)
    evaluator = None
    if shared:
        context = EvaluatorContext(space=space, device=torch.device("cpu"), seed=seed, data=data)
        evaluator = create_evaluator("shared", context=context, batch_size=BATCH)
    x, y = windows(batchify(data.train, BATCH), data.seq_len)[0]
    return space, data, evaluator, x, y


def child(space: Any, data: Any, arch: Any, supernet: nn.Module | None) -> tuple[nn.Module, Any]:
    """The standalone child (the supernet's weights when given) and its optimiser (the search's recipe)."""
    model = space.build_child(arch, data.task())
    if supernet is not None:
        space.load_child_from_supernet(model, supernet)
    model.train()
    d = LANGUAGE_DEFAULTS
    opt = torch.optim.SGD(model.parameters(), lr=d["lr"], momentum=d["momentum"],
                          weight_decay=d["weight_decay"])
    return model, opt


def child_step(model: nn.Module, opt: Any, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    logits, _ = model.run_state(x, None)
    loss = lm_loss(logits, y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), LANGUAGE_DEFAULTS["grad_clip"])
    opt.step()
    return loss.detach()


def shared_step(evaluator: Any, x: torch.Tensor, y: torch.Tensor, arch: Any) -> None:
    evaluator.hidden = None  # from a zero state, as the child step
    evaluator._train_step(x, y, arch)


__all__ = ["BATCH", "WIKITEXT", "child", "child_step", "load_corpus", "setup", "shared_step"]
