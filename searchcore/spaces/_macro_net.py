"""The ENAS-macro network, shared by the supernet and the standalone child.

A 3x3 stem conv, then ``num_layers`` layers at constant channels (ENAS' search setting). Layer
``i`` applies its op to layer ``i-1``'s output; for ``i >= 1`` the outputs of the earlier layers
flagged in its skip decision are added and the sum goes through BN (ENAS ``general_child.py``).
After every third of the layers all outputs that are still needed (the next layer's input and
those a later layer skips from) are halved by factorized reduces, one per (pooling point, layer),
as ENAS does. The supernet holds every op per layer and every reduce; the child only those its
architecture uses, under the same names, so its weights are a subset of the supernet's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import torch
from torch import nn

from searchcore.spaces._common import AuxHead, ChildMixin, Classifier, SupernetMixin, drop_path, stem
from searchcore.spaces.ops import FactorizedReduce, is_plain_identity, make_op


def pool_layers(num_layers: int) -> tuple[int, ...]:
    """Indices of the layers after which the resolution halves (ENAS: ``[d - 1, 2d - 1]``)."""
    distance = num_layers // 3
    return (distance - 1, 2 * distance - 1) if distance > 0 else ()


@lru_cache(maxsize=4096)
def needed_at_pool(layers: tuple[Any, ...], pool_index: int) -> tuple[int, ...]:
    """Layers whose outputs must be reduced after layer ``pool_index``: its own and later skips'."""
    later = layers[pool_index + 1 :]
    return tuple(
        k for k in range(pool_index + 1) if k == pool_index or any(layer.skips[k] for layer in later)
    )


class _Layer(nn.Module):
    def __init__(self, channels: int, ops: Sequence[str], with_bn: bool, affine: bool) -> None:
        super().__init__()
        self.ops = nn.ModuleDict({name: make_op(name, channels, channels, 1, affine) for name in ops})
        self.bn = nn.BatchNorm2d(channels, affine=affine) if with_bn else None

    def forward(self, x: torch.Tensor, outs: list[Any], spec: Any, drop_prob: float) -> torch.Tensor:
        op = self.ops[spec.op]
        h = op(x)
        if drop_prob > 0.0 and self.training and not is_plain_identity(op):
            h = drop_path(h, drop_prob)
        for k, flag in enumerate(spec.skips):
            if flag:
                h = h + outs[k]
        return self.bn(h) if self.bn is not None else h


class MacroNet(nn.Module):
    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        channels: int,
        num_layers: int,
        layer_ops: Callable[[int], Sequence[str]],
        pool_sources: Callable[[int], Sequence[int]],  # layer index -> layers to reduce
        affine: bool,
        aux_head: bool = False,
    ) -> None:
        super().__init__()
        self.num_layers = num_layers
        self.stem = stem(in_channels, channels)
        self.layers = nn.ModuleList(_Layer(channels, layer_ops(i), i > 0, affine) for i in range(num_layers))
        self.pool_at = pool_layers(num_layers)
        self.pools = nn.ModuleList(
            nn.ModuleDict({str(k): FactorizedReduce(channels, channels, affine) for k in pool_sources(p)})
            for p in self.pool_at
        )
        # The aux head reads the output of the second pooling point (2/3 depth), when there is one.
        self.aux = AuxHead(channels, num_classes) if aux_head and len(self.pool_at) == 2 else None
        self.classifier = Classifier(channels, num_classes)

    def run(self, x: torch.Tensor, arch: Any, drop_prob: float = 0.0) -> Any:
        h = self.stem(x)
        outs: list[Any] = []
        aux_logits = None
        for i, (layer, spec) in enumerate(zip(self.layers, arch.layers, strict=True)):
            h = layer(h, outs, spec, drop_prob)
            outs.append(h)
            if i in self.pool_at:
                p = self.pool_at.index(i)
                keep = needed_at_pool(arch.layers, i)
                outs = [self.pools[p][str(k)](outs[k]) if k in keep else None for k in range(i + 1)]
                h = outs[i]
                if p == 1 and self.aux is not None and self.training:
                    aux_logits = self.aux(h)
        logits = self.classifier(h)
        return (logits, aux_logits) if aux_logits is not None else logits

    def arch_mismatch(self, arch: Any) -> str | None:
        if len(arch.layers) != self.num_layers:
            return f"the supernet has {self.num_layers} layers; the architecture has {len(arch.layers)}"
        return None


class MacroSupernet(SupernetMixin, MacroNet):
    """Shared weights: every candidate op once per layer; ``forward(x, arch)``."""


class MacroChild(ChildMixin, MacroNet):
    """One architecture: ``MacroChild(arch, *MacroNet arguments, drop_path=...)``; ``forward(x)``."""
