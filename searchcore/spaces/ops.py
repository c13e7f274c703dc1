"""The operation table shared by the ENAS spaces (DARTS ``operations.py`` style).

``OPS[name](C_in, C_out, stride, affine=True) -> nn.Module`` maps ``(N, C_in, H, W)`` to
``(N, C_out, ceil(H / stride), ceil(W / stride))`` for any ``H, W >= 1`` and stride 1 or 2.
Semantics follow ENAS (``micro_child.py``):

- ``conv3``/``conv5``: ReLU - conv kxk - BN.
- ``sep3``/``sep5``: (ReLU, depthwise kxk, pointwise 1x1, BN) twice; the first stack strides and
  changes the channels, the second keeps them.
- ``avg3``/``max3``: 3x3 pooling (pad 1; padding not counted in averages), followed by a 1x1
  ReLU-conv-BN when the channels or the stride change.
- ``identity``: nothing; a factorized reduce when striding, a 1x1 ReLU-conv-BN when only the
  channels change.

``affine=False`` is for shared-weight supernets (ENAS/DARTS); standalone children use ``True``.
Every module works in ``channels_last`` memory format and is traceable (no data-dependent flow).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from searchcore.spaces._fused import avg_pool3, bn_relu_convs, max_pool3, relu_convs

MICRO_OPS: tuple[str, ...] = ("identity", "sep3", "sep5", "avg3", "max3")
MACRO_OPS: tuple[str, ...] = ("conv3", "conv5", "sep3", "sep5", "max3", "avg3")

OpFactory = Callable[..., nn.Module]


def _recompute(module: nn.Module, x: torch.Tensor) -> bool:
    """Use the memory-saving backward (``_fused``) only when training with autograd on CPU, where
    memory is the limit; not on GPUs (recomputing costs kernel launches), not under autocast (the
    recomputation would run in another precision), never while compiling or exporting."""
    return (
        module.training
        and torch.is_grad_enabled()
        and x.device.type == "cpu"
        and not torch.is_autocast_enabled("cpu")
        and not torch.compiler.is_compiling()
    )


class ReLUConvBN(nn.Module):
    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, affine: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False)
        self.bn = nn.BatchNorm2d(c_out, affine=affine)
        self.spec = ((stride, kernel // 2, 1),)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # The input is shared with other ops, so the ReLU is never in place.
        return self.bn(relu_convs(x, self.spec, (self.conv.weight,), _recompute(self, x)))


class SepConv(nn.Module):
    """ENAS separable conv: two (ReLU, depthwise, pointwise, BN) stacks."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, affine: bool = True) -> None:
        super().__init__()
        pad = kernel // 2
        self.dw1 = nn.Conv2d(c_in, c_in, kernel, stride=stride, padding=pad, groups=c_in, bias=False)
        self.pw1 = nn.Conv2d(c_in, c_out, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out, affine=affine)
        self.dw2 = nn.Conv2d(c_out, c_out, kernel, padding=pad, groups=c_out, bias=False)
        self.pw2 = nn.Conv2d(c_out, c_out, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out, affine=affine)
        self.spec1 = ((stride, pad, c_in), (1, 0, 1))
        self.spec2 = ((1, pad, c_out), (1, 0, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        recompute = _recompute(self, x)
        z = relu_convs(x, self.spec1, (self.dw1.weight, self.pw1.weight), recompute)
        if recompute and self.bn1.training:
            h = bn_relu_convs(z, self.bn1, self.spec2, (self.dw2.weight, self.pw2.weight))
        else:
            h = relu_convs(self.bn1(z), self.spec2, (self.dw2.weight, self.pw2.weight), recompute)
        return self.bn2(h)


class FactorizedReduce(nn.Module):
    """Halve the resolution without dropping half the pixels: two 1x1 convs on the even and the
    odd pixel grids (ENAS/DARTS' stride-2 convs on ``x`` and on ``x`` shifted by one).

    The odd grid is zero-padded at the bottom/right for odd sizes (as ENAS pads), so both give
    ``ceil(H / 2)``. Reading the grids as strided views avoids DARTS' full-size shifted copy.
    """

    def __init__(self, c_in: int, c_out: int, affine: bool = True) -> None:
        super().__init__()
        self.conv_1 = nn.Conv2d(c_in, (c_out + 1) // 2, 1, bias=False)
        # A single output channel (only in tiny tests) leaves no room for the odd grid.
        self.conv_2 = nn.Conv2d(c_in, c_out // 2, 1, bias=False) if c_out > 1 else None
        self.bn = nn.BatchNorm2d(c_out, affine=affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        spec, recompute = ((1, 0, 1),), _recompute(self, x)
        even = x[:, :, ::2, ::2]
        a = relu_convs(even, spec, (self.conv_1.weight,), recompute)
        if self.conv_2 is None:
            return self.bn(a)
        odd = x[:, :, 1::2, 1::2]
        if odd.shape[-2:] != even.shape[-2:]:
            odd = F.pad(odd, (0, even.shape[-1] - odd.shape[-1], 0, even.shape[-2] - odd.shape[-2]))
        b = relu_convs(odd, spec, (self.conv_2.weight,), recompute)
        return self.bn(torch.cat([a, b], dim=1))


class Pool(nn.Module):
    """3x3 average or max pooling (padding 1), then a 1x1 ReLU-conv-BN if the shape changes."""

    def __init__(self, kind: str, c_in: int, c_out: int, stride: int = 1, affine: bool = True) -> None:
        super().__init__()
        self.kind, self.stride = kind, stride
        if kind == "avg":  # the all-ones depthwise kernel of avg_pool3; not a weight, not saved
            self.register_buffer("ones", torch.ones(c_in, 1, 3, 3), persistent=False)
        needs_conv = c_in != c_out or stride != 1
        self.conv = ReLUConvBN(c_in, c_out, 1, affine=affine) if needs_conv else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "avg":
            x = avg_pool3(x, self.ones, self.stride)
        else:  # the index map only matters at full resolution, where it costs 2x the output
            x = max_pool3(x, self.stride, self.stride == 1 and _recompute(self, x))
        return self.conv(x) if self.conv is not None else x


def identity(c_in: int, c_out: int, stride: int, affine: bool = True) -> nn.Module:
    if stride != 1:
        return FactorizedReduce(c_in, c_out, affine=affine)
    if c_in != c_out:
        return ReLUConvBN(c_in, c_out, 1, affine=affine)
    return nn.Identity()


OPS: dict[str, OpFactory] = {
    "identity": identity,
    "conv3": lambda c_in, c_out, stride, affine=True: ReLUConvBN(c_in, c_out, 3, stride, affine),
    "conv5": lambda c_in, c_out, stride, affine=True: ReLUConvBN(c_in, c_out, 5, stride, affine),
    "sep3": lambda c_in, c_out, stride, affine=True: SepConv(c_in, c_out, 3, stride, affine),
    "sep5": lambda c_in, c_out, stride, affine=True: SepConv(c_in, c_out, 5, stride, affine),
    "avg3": lambda c_in, c_out, stride, affine=True: Pool("avg", c_in, c_out, stride, affine),
    "max3": lambda c_in, c_out, stride, affine=True: Pool("max", c_in, c_out, stride, affine),
}


def make_op(
    name: str,
    c_in: int,
    c_out: int,
    stride: int = 1,
    affine: bool = True,
    table: Mapping[str, OpFactory] = OPS,
) -> nn.Module:
    """Build operation ``name`` of ``table`` (``OPS`` unless a space brings its own op table)."""
    if name not in table:
        raise ValueError(f"unknown operation {name!r}; known: {', '.join(sorted(table))}")
    if stride not in (1, 2):
        raise ValueError(f"stride must be 1 or 2, not {stride}")
    return table[name](c_in, c_out, stride, affine=affine)


def is_plain_identity(module: nn.Module) -> bool:
    """True for the parameter-free identity, which drop path leaves alone (DARTS)."""
    return isinstance(module, nn.Identity)


__all__ = [
    "MACRO_OPS",
    "MICRO_OPS",
    "OPS",
    "FactorizedReduce",
    "OpFactory",
    "Pool",
    "ReLUConvBN",
    "SepConv",
    "is_plain_identity",
    "make_op",
]
