"""NASNet's 13 operations (Zoph et al. 2018, §3), as an ``ops.OPS``-style table.

Every factory is ``(c_in, c_out, stride, affine=True) -> nn.Module`` mapping ``(N, c_in, H, W)`` to
``(N, c_out, ceil(H / stride), ceil(W / stride))``. Convolutions are ReLU -> conv -> BN; the
separable convs are ENAS' (depthwise then pointwise with nothing between, the stack applied
twice as NASNet's code does: ``ops.SepConv``); pooling and identity have no weights at equal
channels and stride 1 and get a 1x1 ReLU-conv-BN (a factorized reduce for a strided identity)
only to reconcile the shape. ENAS' ops are reused where NASNet names the same op.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from searchcore.spaces.ops import OPS, OpFactory, ReLUConvBN, SepConv

NASNET_OPS: tuple[str, ...] = (
    "identity", "conv1x3_3x1", "conv1x7_7x1", "dil_conv3", "avg3", "max3", "max5", "max7",
    "conv1", "conv3", "sep3", "sep5", "sep7",
)


class FactorizedConv(nn.Module):
    """ReLU - 1xk conv - kx1 conv - BN (NASNet's "1x7 then 7x1"); each conv strides along its axis."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, affine: bool = True) -> None:
        super().__init__()
        pad = kernel // 2
        self.conv_w = nn.Conv2d(c_in, c_out, (1, kernel), stride=(1, stride), padding=(0, pad), bias=False)
        self.conv_h = nn.Conv2d(c_out, c_out, (kernel, 1), stride=(stride, 1), padding=(pad, 0), bias=False)
        self.bn = nn.BatchNorm2d(c_out, affine=affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv_h(self.conv_w(F.relu(x))))  # the input is shared: no in-place ReLU


class DilatedConv(nn.Module):
    """ReLU - 3x3 conv with dilation 2 (a 5x5 receptive field) - BN."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1, affine: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=2, dilation=2, bias=False)
        self.bn = nn.BatchNorm2d(c_out, affine=affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(F.relu(x)))


class MaxPool(nn.Module):
    """k x k max pooling (padding k // 2), then a 1x1 ReLU-conv-BN if the channels or the stride change."""

    def __init__(self, kernel: int, c_in: int, c_out: int, stride: int = 1, affine: bool = True) -> None:
        super().__init__()
        self.kernel, self.stride = kernel, stride
        needs_conv = c_in != c_out or stride != 1
        self.conv = ReLUConvBN(c_in, c_out, 1, affine=affine) if needs_conv else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(x, self.kernel, self.stride, padding=self.kernel // 2)
        return self.conv(x) if self.conv is not None else x


def _factorized(kernel: int) -> OpFactory:
    def build(c_in: int, c_out: int, stride: int, affine: bool = True) -> nn.Module:
        return FactorizedConv(c_in, c_out, kernel, stride, affine)

    return build


def _max_pool(kernel: int) -> OpFactory:
    def build(c_in: int, c_out: int, stride: int, affine: bool = True) -> nn.Module:
        return MaxPool(kernel, c_in, c_out, stride, affine)

    return build


def conv1(c_in: int, c_out: int, stride: int, affine: bool = True) -> nn.Module:
    return ReLUConvBN(c_in, c_out, 1, stride, affine)


def dil_conv3(c_in: int, c_out: int, stride: int, affine: bool = True) -> nn.Module:
    return DilatedConv(c_in, c_out, stride, affine)


def sep7(c_in: int, c_out: int, stride: int, affine: bool = True) -> nn.Module:
    return SepConv(c_in, c_out, 7, stride, affine)


NASNET_OP_TABLE: dict[str, OpFactory] = {
    "identity": OPS["identity"],
    "conv1x3_3x1": _factorized(3),
    "conv1x7_7x1": _factorized(7),
    "dil_conv3": dil_conv3,
    "avg3": OPS["avg3"],
    "max3": OPS["max3"],
    "max5": _max_pool(5),
    "max7": _max_pool(7),
    "conv1": conv1,
    "conv3": OPS["conv3"],
    "sep3": OPS["sep3"],
    "sep5": OPS["sep5"],
    "sep7": sep7,
}

__all__ = ["NASNET_OPS", "NASNET_OP_TABLE", "DilatedConv", "FactorizedConv", "MaxPool"]
