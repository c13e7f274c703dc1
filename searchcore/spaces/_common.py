"""Pieces shared by the ENAS networks: stem, heads, drop path, supernet/child bases, child overrides,
JSON checks; the language spaces' task check and named overrides."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from searchcore.spaces.base import LANGUAGE, TaskSpec


def drop_path(x: torch.Tensor, prob: float) -> torch.Tensor:
    """ScheduledDropPath (NASNet/DARTS): zero whole samples of a branch, rescale the rest.

    One Bernoulli draw per sample on the tensor's device; no Python per-sample work.
    """
    keep = 1.0 - prob
    mask = torch.empty((x.shape[0], 1, 1, 1), dtype=x.dtype, device=x.device).bernoulli_(keep)
    return x * (mask / keep)


def stem(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
    )


class Classifier(nn.Module):
    """ReLU, global average pooling, linear (ENAS)."""

    def __init__(self, channels: int, num_classes: int) -> None:
        super().__init__()
        self.relu = nn.ReLU(inplace=False)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.linear = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(torch.flatten(self.pool(self.relu(x)), 1))


class AuxHead(nn.Module):
    """DARTS' auxiliary classifier; adaptive pooling to 2x2 so any input size >= 8 works."""

    def __init__(self, channels: int, num_classes: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.AdaptiveAvgPool2d(2),
            nn.Conv2d(channels, 128, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=True),
            nn.Conv2d(128, 768, 2, bias=False),
            nn.BatchNorm2d(768),
            nn.ReLU(inplace=True),
        )
        self.linear = nn.Linear(768, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(torch.flatten(self.features(x), 1))


def child_overrides(
    overrides: dict[str, Any], allowed: dict[str, Any], aliases: dict[str, str]
) -> dict[str, Any]:
    """Merge ``overrides`` into the ``allowed`` defaults; unknown names raise ``TypeError``.

    ``None`` values mean "keep the default", so a trainer can pass its optional settings through.
    """
    merged = dict(allowed)
    for key, value in overrides.items():
        name = aliases.get(key, key)
        if name not in allowed:
            raise TypeError(f"unknown child override {key!r}; known: {', '.join(sorted(allowed))}")
        if value is not None:
            merged[name] = value
    for name in ("channels", "cells_per_stage", "num_layers"):
        if name in merged and (isinstance(merged[name], bool) or not isinstance(merged[name], int)):
            raise ValueError(f"{name} must be an integer, not {merged[name]!r}")
        if name in merged and merged[name] < 1:
            raise ValueError(f"{name} must be at least 1, not {merged[name]}")
    prob = float(merged["drop_path"])
    if not 0.0 <= prob < 1.0:
        raise ValueError(f"drop_path must be in [0, 1), not {prob}")
    merged["drop_path"] = prob
    merged["aux_head"] = bool(merged["aux_head"])
    return merged


def check_language_task(task: TaskSpec, space: str) -> None:
    if task.kind != LANGUAGE:
        raise ValueError(f"the {space} space builds language models; this task is {task.kind}")


def named_overrides(options: dict[str, Any], given: dict[str, Any],
                    positive: tuple[str, ...] = ("hidden_size",)) -> dict[str, Any]:
    """``options`` with every ``given`` value that is not ``None``; the ``positive`` names must be
    positive integers. The spaces take their overrides as named arguments, so a name they do not
    know is a ``TypeError`` before this is called."""
    cfg = {**options, **{k: v for k, v in given.items() if v is not None}}
    for name in positive:
        if isinstance(cfg[name], bool) or not isinstance(cfg[name], int) or cfg[name] < 1:
            raise ValueError(f"{name} must be a positive integer, not {cfg[name]!r}")
    return cfg


def check_space_field(data: Any, name: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValueError(f"a {name} architecture must be a JSON object, not {type(data).__name__}")
    space = data.get("space", name)
    if space != name:
        raise ValueError(f"architecture is for space {space!r}, not {name!r}")
    return data


@torch.no_grad()
def copy_weights(child: nn.Module, supernet: nn.Module) -> None:
    """Copy every child tensor that the supernet has under the same name into the child.

    Modules with ``weight_for(sources)`` (blocks of a weight selected per architecture) are
    gathered. Tensors the supernet lacks are BN scales/shifts (reset to 1/0, BN's identity) or
    child-only parts such as the aux head (left as initialised).
    """
    source = supernet.state_dict()
    for name, tensor in child.state_dict().items():
        owner_name, _, leaf = name.rpartition(".")
        owner = child.get_submodule(owner_name)
        if hasattr(owner, "weight_for") and leaf == "weight":
            tensor.copy_(supernet.get_submodule(owner_name).weight_for(owner.sources))
        elif name in source:
            if source[name].shape != tensor.shape:
                raise ValueError(
                    f"{name}: supernet {tuple(source[name].shape)} != child {tuple(tensor.shape)}"
                )
            tensor.copy_(source[name])
        elif isinstance(owner, nn.BatchNorm2d) and leaf in ("weight", "bias"):
            tensor.fill_(1.0 if leaf == "weight" else 0.0)


class SupernetMixin(nn.Module):
    """``forward(x, arch)`` of a shared-weight net: check ``arch`` fits, then run only its path.

    Mixed in before a net class that has ``run(x, arch)`` and ``arch_mismatch(arch)``.
    """

    def forward(self, x: torch.Tensor, arch: Any) -> torch.Tensor:
        problem = self.arch_mismatch(arch)
        if problem:
            raise ValueError(problem)
        return self.run(x, arch)


class ChildMixin(nn.Module):
    """One architecture; ``drop_path_prob`` (set by the trainer each epoch) is read every forward.

    Mixed in before a net class with ``run(x, arch, drop_prob)``; the net's own arguments follow
    ``arch``.
    """

    def __init__(self, arch: Any, *args: Any, drop_path: float = 0.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arch = arch
        self.drop_path = drop_path  # the maximum, for the trainer's schedule
        self.drop_path_prob = drop_path

    def forward(self, x: torch.Tensor) -> Any:
        return self.run(x, self.arch, float(self.drop_path_prob))

    @torch.no_grad()
    def load_from_supernet(self, supernet: nn.Module) -> None:
        """Copy the supernet's weights of this architecture; BN scales/shifts become 1/0."""
        copy_weights(self, supernet)
