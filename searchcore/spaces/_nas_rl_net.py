"""The NAS-RL convolutional child (Zoph & Le 2017, §3.3 and §4.1): a stack of conv layers wired by
its architecture's skip connections.

Layer ``i`` reads the layers its flags name, concatenated in depth; an input smaller than the
largest one (an earlier stride shrank it) is zero-padded around its border to the largest's side.
A layer that names no input reads the image (layer 0 always does). Each layer is conv (its own
filter height x width, filter count and stride, "same" padding) -> batch norm -> ReLU, the order of
the paper's 2016 children and of ResNet v1: the next layer and the classifier receive rectified
maps, and a layer's BN normalises its own conv's output whatever mix of inputs fed it. There is no
stem. Every layer that no later layer reads is concatenated the same way before the classifier
(global average pooling, linear).

ScheduledDropPath here acts on the skip connections: where a layer (or the classifier) concatenates
two or more inputs, each input is zeroed for a whole sample with the scheduled probability and the
kept ones rescaled, as NASNet drops the paths into a cell. A single input is never dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from searchcore.spaces._common import ChildMixin, drop_path


def scaled_filters(filters: int, multiplier: float) -> int:
    """A layer's filter count at ``multiplier`` times the searched width (at least 1)."""
    return max(1, round(filters * multiplier))


def consumers(layers: Sequence[Any]) -> list[list[int]]:
    """For each layer, the later layers that read it."""
    out: list[list[int]] = [[] for _ in layers]
    for i, layer in enumerate(layers):
        for k, flag in enumerate(layer.inputs):
            if flag:
                out[k].append(i)
    return out


def output_layers(layers: Sequence[Any]) -> list[int]:
    """The layers no later layer reads: their outputs are concatenated for the classifier."""
    return [k for k, readers in enumerate(consumers(layers)) if not readers]


def concat_padded(xs: list[torch.Tensor], drop_prob: float, training: bool) -> torch.Tensor:
    """Concatenate in depth, zero-padding smaller maps (centred) to the largest height and width."""
    if len(xs) == 1:
        return xs[0]
    if drop_prob > 0.0 and training:
        xs = [drop_path(x, drop_prob) for x in xs]
    height, width = max(x.shape[2] for x in xs), max(x.shape[3] for x in xs)
    padded = []
    for x in xs:
        dh, dw = height - x.shape[2], width - x.shape[3]
        padded.append(F.pad(x, (dw // 2, dw - dw // 2, dh // 2, dh - dh // 2)) if dh or dw else x)
    return torch.cat(padded, 1)


class ConvBNReLU(nn.Module):
    def __init__(self, c_in: int, c_out: int, height: int, width: int, stride: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, (height, width), stride, (height // 2, width // 2), bias=False)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


class NasRlNet(nn.Module):
    """The layers of ``arch`` (each with ``height``, ``width``, ``filters``, ``stride``, ``inputs``)
    at ``multiplier`` times their filter counts; ``run(x, arch, drop_prob)``."""

    def __init__(self, arch: Any, in_channels: int, num_classes: int, multiplier: float = 1.0) -> None:
        super().__init__()
        widths = [scaled_filters(layer.filters, multiplier) for layer in arch.layers]
        self.sources = [tuple(k for k, flag in enumerate(layer.inputs) if flag) for layer in arch.layers]
        self.outputs = output_layers(arch.layers)
        self.layers = nn.ModuleList(
            ConvBNReLU(sum(widths[k] for k in sources) if sources else in_channels, widths[i],
                       layer.height, layer.width, layer.stride)
            for i, (layer, sources) in enumerate(zip(arch.layers, self.sources, strict=True))
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.linear = nn.Linear(sum(widths[k] for k in self.outputs), num_classes)

    def run(self, x: torch.Tensor, arch: Any, drop_prob: float = 0.0) -> torch.Tensor:
        outs: list[torch.Tensor] = []
        for layer, sources in zip(self.layers, self.sources, strict=True):
            h = concat_padded([outs[k] for k in sources], drop_prob, self.training) if sources else x
            outs.append(layer(h))
        features = concat_padded([outs[k] for k in self.outputs], drop_prob, self.training)
        return self.linear(torch.flatten(self.pool(features), 1))


class NasRlChild(ChildMixin, NasRlNet):
    """One architecture, ``forward(x)``; ``drop_path_prob`` is read at every forward."""

    def __init__(self, arch: Any, in_channels: int, num_classes: int, multiplier: float = 1.0,
                 drop_path: float = 0.0) -> None:
        super().__init__(arch, arch, in_channels, num_classes, multiplier, drop_path=drop_path)


__all__ = ["ConvBNReLU", "NasRlChild", "NasRlNet", "concat_padded", "consumers", "output_layers",
           "scaled_filters"]
