"""Files of a final-training directory: what ``train_final`` writes and ``export_package`` reads.

A training directory holds ``model.pt`` (a ``state_dict``, loadable with ``weights_only=True``),
``architecture.json`` (the architecture JSON with ``"space"``), ``preprocessing.json``,
``metrics.json``, ``train_config.json`` (the ``FinalConfig`` plus the space options and the
``build_child`` overrides actually used, so the network can be rebuilt exactly), ``events.jsonl``
and ``test_samples.safetensors`` (a few real test images, uint8, used to verify the export).
"""

from __future__ import annotations

import inspect
import json
import logging
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from searchcore.files import atomic_write_json
from searchcore.spaces import TaskSpec, create_space

logger = logging.getLogger(__name__)

TRAIN_FILES = ("model.pt", "architecture.json", "preprocessing.json", "metrics.json", "train_config.json")
SAMPLES_FILE = "test_samples.safetensors"


def resolve_architecture(
    source: dict[str, Any] | str | os.PathLike[str],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(architecture JSON with "space", space options)`` from a search ``result.json`` or a bare arch.

    ``source`` is a parsed dict or a path to a JSON file. A result holds
    ``{"space", "best": {"architecture": {...}}}`` and may carry the search's ``space_options``
    (top level or under ``"config"``); a bare architecture must name its ``"space"``.
    """
    data = source if isinstance(source, dict) else read_json(Path(source))
    if not isinstance(data, dict):
        raise ValueError("the architecture file must hold a JSON object")
    options = data.get("space_options") or (data.get("config") or {}).get("space_options") or {}
    if "best" in data:
        best = data["best"] or {}
        arch = best.get("architecture") if isinstance(best, dict) else None
        if not isinstance(arch, dict):
            raise ValueError("result.json has no best architecture (did the search finish?)")
        arch = {"space": data.get("space"), **arch}
    else:
        arch = dict(data)
        arch.pop("space_options", None)
        arch.pop("config", None)
    if not arch.get("space"):
        raise ValueError('the architecture JSON does not name its "space"')
    return arch, dict(options)


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from None


def write_json(path: Path, data: Any) -> None:
    """Atomic, fsync'ed write of pretty, NaN-free JSON."""
    atomic_write_json(path, data)


def build_child(arch_json: dict[str, Any], space_options: dict[str, Any], task: TaskSpec,
                overrides: dict[str, Any]) -> nn.Module:
    """Create the space, parse the architecture and build the standalone child.

    Only overrides the space's ``build_child`` accepts are passed; a size override the space does
    not know (e.g. ``layers`` for a cell space) is an error the user should hear about.
    """
    space = create_space(arch_json["space"], **space_options)
    arch = space.arch_from_json(arch_json)
    try:
        return space.build_child(arch, task, **overrides)
    except TypeError as exc:
        accepted = _accepted_overrides(space.build_child)
        bad = sorted(set(overrides) - accepted) if accepted is not None else []
        if bad:
            raise ValueError(f"space {space.name!r} does not take {', '.join(bad)}; "
                             f"it takes {', '.join(sorted(accepted or ())) or 'no overrides'}") from exc
        raise


def _accepted_overrides(fn: Any) -> set[str] | None:
    """Keyword names ``fn`` accepts after ``(arch, task)``; ``None`` if it takes ``**kwargs``."""
    params = list(inspect.signature(fn).parameters.values())[2:]
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return {p.name for p in params}


def child_overrides(space_name: str, space_options: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
    """Drop ``None`` values; keep ``drop_path`` only where the space's ``build_child`` takes it.

    ``drop_path`` always has a value (the trainer sets ``drop_path_prob`` each epoch anyway), so
    it must not make a space without drop path fail; every other override was set by the user.
    """
    given = {k: v for k, v in wanted.items() if v is not None}
    if "drop_path" in given:
        accepted = _accepted_overrides(create_space(space_name, **space_options).build_child)
        if accepted is not None and "drop_path" not in accepted:
            given.pop("drop_path")
    return given


def load_trained(train_dir: Path) -> tuple[nn.Module, dict[str, Any], dict[str, Any]]:
    """Rebuild the trained network in eval mode on CPU: ``(model, preprocessing, train_config)``."""
    missing = [n for n in TRAIN_FILES if not (train_dir / n).is_file()]
    if missing:
        raise ValueError(f"{train_dir} is not a finished training directory: missing {', '.join(missing)}")
    arch = read_json(train_dir / "architecture.json")
    prep = read_json(train_dir / "preprocessing.json")
    cfg = read_json(train_dir / "train_config.json")
    task = task_of(prep)
    model = build_child(arch, cfg.get("space_options") or {}, task, cfg.get("child_overrides") or {})
    state = torch.load(train_dir / "model.pt", map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    model.eval()
    return model, prep, cfg


def task_of(prep: dict[str, Any]) -> TaskSpec:
    """The task a training folder's ``preprocessing.json`` describes (``"task"``; older image
    folders have only ``channels``, ``image_size`` and ``class_names``)."""
    if "task" in prep:
        return TaskSpec.from_dict(prep["task"])
    return TaskSpec.image(int(prep["channels"]), int(prep["image_size"]), len(prep["class_names"]))


def logits_of(output: Any) -> torch.Tensor:
    """Children with an auxiliary head may return ``(logits, aux_logits)`` in training mode."""
    if isinstance(output, (tuple, list)):
        return output[0]
    return output


def split_output(output: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
    if isinstance(output, (tuple, list)):
        aux = output[1] if len(output) > 1 else None
        return output[0], aux
    return output, None
