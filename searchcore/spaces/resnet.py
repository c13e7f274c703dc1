"""The CIFAR ResNet-20 (He et al., CVPR 2016, section 4.2) as a space with a single architecture.

A 3x3 convolution stem, three stages of ``blocks_per_stage`` basic blocks (two 3x3 convolutions
with batch norm and an identity shortcut; the first block of stages 2 and 3 halves the side and
doubles the channels, with a 1x1 projection shortcut: option B), global average pooling and a
linear classifier. ``channels`` 16 and 3 blocks per stage give ResNet-20 (0.27 M parameters on
CIFAR-10); 5, 7, 9 blocks give ResNet-32/44/56. The input channels, side and classes follow the task.

Nothing is chosen: the space has no decisions and no supernet, so it is never searched. A run of it
is final training only, for the whole budget (``searchcore.compat.trains_only``): the hand-designed
network a user would train instead of searching, the baseline NAS has to beat (design §6).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from searchcore.schema import Option, Schema
from searchcore.spaces import register_space
from searchcore.spaces._fixed import FixedArchSpace
from searchcore.spaces.base import TaskSpec, options_class

BLOCK = "basic"  # the one block type of the CIFAR ResNets
STAGES = 3

SCHEMA = Schema("resnet20 space", (
    Option("channels", "int", 16, "channels of the first stage (doubled per stage)", 1, 256),
    Option("blocks_per_stage", "int", 3, "basic blocks in each of the 3 stages (3: ResNet-20, 9: ResNet-56)",
           1, 18),
))
ResNetOptions = options_class(SCHEMA, "ResNetOptions", __name__)


@dataclass(frozen=True)
class ResNetArch:
    """The space's only architecture; its sizes are the space's options, not choices."""

    block: str = BLOCK


class BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:  # option B: 1x1 projection
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False),
                                          nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)), inplace=True)
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x), inplace=True)


class ResNet20(nn.Module):
    """Stem, 3 stages x ``blocks_per_stage`` basic blocks (``channels``, 2x, 4x), pool, linear."""

    def __init__(self, in_channels: int = 3, num_classes: int = 10, channels: int = 16,
                 blocks_per_stage: int = 3) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, channels, 3, 1, 1, bias=False),
                                  nn.BatchNorm2d(channels), nn.ReLU(inplace=True))
        layers: list[nn.Module] = []
        c_in = channels
        for stage in range(STAGES):
            c = channels * 2**stage
            for i in range(blocks_per_stage):
                layers.append(BasicBlock(c_in, c, 2 if stage > 0 and i == 0 else 1))
                c_in = c
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(c_in, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.layers(self.stem(x)).mean((2, 3)))


@register_space
class ResNetSpace(FixedArchSpace):
    name = "resnet20"
    schema = SCHEMA
    Options = ResNetOptions
    description = ("Hand-designed ResNet-20 (He et al. 2016): one fixed architecture, trained for the whole "
                   "budget without a search; the baseline a search is compared with.")
    arch_type = ResNetArch
    arch_field = "block"
    options: ResNetOptions

    def graph(self, arch: ResNetArch) -> dict[str, Any]:
        """The network as a chain: input, stem, the three stages, the classifier."""
        o = self.options
        nodes = [{"id": "input", "label": "input", "kind": "input"},
                 {"id": "stem", "label": f"conv 3x3, {o.channels}", "kind": "op"}]
        for stage in range(STAGES):
            stride = ", stride 2" if stage else ""
            label = f"{o.blocks_per_stage} x basic block, {o.channels * 2**stage}{stride}"
            nodes.append({"id": f"stage{stage + 1}", "label": label, "kind": "op"})
        nodes.append({"id": "head", "label": "global pool, linear", "kind": "output"})
        edges = [{"source": a["id"], "target": b["id"], "label": ""}
                 for a, b in zip(nodes[:-1], nodes[1:], strict=True)]
        return {"cells": [{"name": f"ResNet-{6 * o.blocks_per_stage + 2}", "nodes": nodes, "edges": edges}]}

    def build_child(self, arch: ResNetArch, task: TaskSpec, *, channels: int | None = None,
                    blocks_per_stage: int | None = None) -> ResNet20:
        """``channels``/``blocks_per_stage`` override the options (final training's size fields)."""
        o = self.options
        return ResNet20(task.in_channels, task.num_classes, channels or o.channels,
                        blocks_per_stage or o.blocks_per_stage)


__all__ = ["BasicBlock", "ResNet20", "ResNetArch", "ResNetOptions", "ResNetSpace"]
