"""The final child: its size and batch (budget planner), its first weights (scratch or supernet).

Used by ``train_final``. With ``init`` resolving to ``"supernet"`` the child keeps the search's
supernet size (``training.inherit``), so the planner chooses only the batch; from scratch the
planner chooses the size too (``searchcore.planning``). Either way the sizes the user gave win.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch import nn

from searchcore.events import Emitter
from searchcore.spaces import space_class
from searchcore.training.inherit import (
    check_no_resize,
    load_supernet_weights,
    resolved_init,
    supernet_space_options,
)
from searchcore.training.io import build_child, child_overrides
from searchcore.training.transfer import check_fits

# a language model's final-child overrides (``training.language_settings``); None for an image run
LANGUAGE_SIZES = ("hidden_size", "dropout_words", "dropout_embedding", "dropout_hidden", "dropout_output")
Prepared = tuple[Any, nn.Module, dict[str, Any], dict[str, Any]]


def prepare_child(config: Any, arch: dict[str, Any], space_options: dict[str, Any], data: Any,
                  device: torch.device, emitter: Emitter) -> Prepared:
    """``(config as planned, child on CPU, space options, build_child overrides)``; ``config.init``
    comes back resolved (``"scratch"`` or ``"supernet"``)."""
    init = resolved_init(config.init, config.supernet)
    config = dataclasses.replace(config, init=init)
    if init == "supernet":
        check_no_resize({"channels": config.channels, "cells_per_stage": config.cells_per_stage,
                         "layers": config.layers, "hidden_size": config.hidden_size})
        space_options = supernet_space_options(config.supernet, space_options)
        sizes = {k: space_options[k] for k in ("channels", "cells_per_stage") if k in space_options}
        names = space_class(arch["space"]).schema.names()
        config = dataclasses.replace(config, **{k: v for k, v in sizes.items() if k in names})
    sizes = {"channels": config.channels, "cells_per_stage": config.cells_per_stage, "layers": config.layers}
    check_fits(arch, space_options, data.task(), {k: v for k, v in sizes.items() if v is not None})
    config = _planned(config, arch, space_options, data, device, emitter)
    overrides = child_overrides(arch["space"], space_options, {
        "channels": config.channels, "cells_per_stage": config.cells_per_stage, "layers": config.layers,
        "drop_path": config.drop_path, "aux_head": config.aux_head or None,
        **{name: getattr(config, name) for name in LANGUAGE_SIZES}})
    model = build_child(arch, space_options, data.task(), overrides)
    if init == "supernet":
        load_supernet_weights(model, arch, space_options, data.task(), config.supernet)
    return config, model, space_options, overrides


def _planned(config: Any, arch: dict[str, Any], space_options: dict[str, Any], data: Any,
             device: torch.device, emitter: Emitter) -> Any:
    """The child's size and batch from the budget planner, announced with a ``plan`` event."""
    from searchcore.planning.apply import announce, final_plan, planned_final_config

    plan = final_plan(config, arch, space_options, data, device.type)
    announce(emitter, "final", plan)
    return planned_final_config(config, plan)
