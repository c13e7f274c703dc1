"""Transfer (NASNet's main result): a searched architecture trained on another dataset, at another size.

NASNet searched its cells on CIFAR-10 and trained them, stacked deeper and wider, on ImageNet. Here
a transfer is final training (``train_final``) of a finished search's architecture on another of
the user's datasets: the child is rebuilt for that dataset's task (input channels, image side,
number of classes) at the sizes asked for (``FinalConfig``'s ``channels``, ``cells_per_stage``,
``layers``) and trained from scratch, since the search's supernet learned another dataset.

This module answers, without building a real network, what must be known before such a run starts:
which sizes the architecture's space can change (``sizes_taken``) and whether its child fits the
new task at those sizes (``check_fits``). Both build the child on PyTorch's ``meta`` device, where
tensors have shapes but no storage, so a 1024-channel child costs no memory and a few milliseconds.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import torch

from searchcore.spaces import TaskSpec, create_space, space_class
from searchcore.spaces.base import IMAGE

logger = logging.getLogger(__name__)

SIZES = ("channels", "cells_per_stage", "layers")  # the child sizes a transfer may change
PROBE_TASK = TaskSpec.image(3, 32, 10)  # any image task: which overrides a space takes does not depend on it
_TAKEN: dict[tuple[str, str], tuple[str, ...]] = {}


def sizes_taken(arch_json: dict[str, Any], space_options: dict[str, Any] | None = None) -> tuple[str, ...]:
    """The names of ``SIZES`` the standalone child of ``arch_json``'s space accepts as overrides (what a
    space's ``build_child`` takes does not depend on the architecture: remembered per space and options)."""
    if space_class(arch_json["space"]).task_kind != IMAGE:
        return ()
    key = (arch_json["space"], json.dumps(space_options or {}, sort_keys=True, default=str))
    if key not in _TAKEN:
        if len(_TAKEN) >= 256:
            _TAKEN.clear()
        _TAKEN[key] = _probe_sizes(arch_json, space_options or {})
    return _TAKEN[key]


def _probe_sizes(arch_json: dict[str, Any], space_options: dict[str, Any]) -> tuple[str, ...]:
    taken = []
    for name in SIZES:
        try:
            _build_on_meta(arch_json, space_options, PROBE_TASK, {name: None})
        except TypeError:  # "unknown child override" (or an unexpected keyword)
            continue
        taken.append(name)
    return tuple(taken)


def size_problem(arch_json: dict[str, Any], space_options: dict[str, Any] | None,
                 sizes: dict[str, Any]) -> str | None:
    """Why the sizes given (``None`` values are "the default") cannot be set for this space, or ``None``."""
    given = sorted(k for k, v in sizes.items() if v is not None)
    refused = [k for k in given if k not in sizes_taken(arch_json, space_options)]
    if not refused:
        return None
    taken = sizes_taken(arch_json, space_options)
    return (f"the {arch_json['space']} space cannot set {', '.join(n.replace('_', ' ') for n in refused)}; "
            f"it can set {', '.join(n.replace('_', ' ') for n in taken) or 'no size'}")


def check_fits(arch_json: dict[str, Any], space_options: dict[str, Any] | None, task: TaskSpec,
               overrides: dict[str, Any]) -> None:
    """``ValueError`` in words when the child of ``arch_json`` cannot be built for ``task`` with
    ``overrides`` or cannot take that task's input; nothing when it can (or when a space's forward
    cannot run on the meta device, which then leaves the check to real training)."""
    kind = space_class(arch_json["space"]).task_kind
    if kind != task.kind:
        raise ValueError(f"the {arch_json['space']} architecture is for {kind} data, not {task.kind} data")
    try:
        _build_on_meta(arch_json, space_options or {}, task, overrides, forward=kind == IMAGE)
    except (TypeError, ValueError) as exc:  # an override it does not take, a size it cannot be built at
        raise ValueError(f"the {arch_json['space']} child{_at(overrides)}: {exc}") from exc
    except NotImplementedError:
        logger.debug("%s: no meta kernel for the fit check; training will tell", arch_json["space"])
    except RuntimeError as exc:
        if "meta" in str(exc).lower():  # data-dependent code (.item()) cannot run without data
            logger.debug("%s: the fit check cannot run on meta tensors: %s", arch_json["space"], exc)
            return
        raise ValueError(f"the {arch_json['space']} child{_at(overrides)} does not fit "
                         f"{_described(task)}: {exc}") from exc


def _build_on_meta(arch_json: dict[str, Any], space_options: dict[str, Any], task: TaskSpec,
                   overrides: dict[str, Any], *, forward: bool = False) -> None:
    space = create_space(arch_json["space"], **space_options)
    arch = space.arch_from_json(arch_json)
    with torch.device("meta"):
        model = space.build_child(arch, task, **overrides)
        if forward:
            model.eval()
            with torch.no_grad():
                model(torch.empty(2, task.in_channels, task.image_size, task.image_size))


def _at(overrides: dict[str, Any]) -> str:
    sizes = [f"{k.replace('_', ' ')} {v}" for k, v in overrides.items() if k in SIZES and v is not None]
    return f" at {', '.join(sizes)}" if sizes else ""


def _described(task: TaskSpec) -> str:
    if task.kind != IMAGE:
        return f"a {task.kind} task"
    return (f"{task.image_size}×{task.image_size} images with {task.in_channels} channel(s) "
            f"and {task.num_classes} classes")


__all__ = ["SIZES", "check_fits", "size_problem", "sizes_taken"]
