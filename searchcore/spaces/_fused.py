"""ReLU followed by bias-free convolutions, saving only the input for the backward pass.

A plain ``ReLU -> depthwise -> pointwise`` keeps two activations alive for backward (the ReLU
output and the depthwise output) besides its input. This function keeps only the input, which
is usually saved anyway by the other operations reading the same node, and recomputes the ReLU
and the inner convolutions in backward. That halves the activation memory of a separable conv
stack for about one extra depthwise conv, which is what keeps an ENAS-micro training step on CPU
within its memory budget. Used only when gradients are recorded in training; inference and
export run the plain ops.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

ConvSpec = tuple[int, int, int]  # stride, padding, groups


class _ReLUConvs(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx: Any, x: torch.Tensor, specs: tuple[ConvSpec, ...], *weights: torch.Tensor
    ) -> torch.Tensor:
        h = _convs(F.relu(x), weights, specs)
        ctx.specs = specs
        ctx.save_for_backward(x, *weights)
        return h

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        x, *weights = ctx.saved_tensors
        relu_x = F.relu(x)
        grad, grad_w = _convs_backward(grad, relu_x, weights, ctx.specs, ctx.needs_input_grad[2:])
        grad_x = torch.ops.aten.threshold_backward(grad, relu_x, 0) if ctx.needs_input_grad[0] else None
        return (grad_x, None, *grad_w)


def relu_convs(
    x: torch.Tensor, specs: tuple[ConvSpec, ...], weights: tuple[torch.Tensor, ...], recompute: bool
) -> torch.Tensor:
    """``conv_n(... conv_1(relu(x)))``; ``recompute`` selects the memory-saving backward."""
    if recompute:
        return _ReLUConvs.apply(x, specs, *weights)
    return _convs(F.relu(x), weights, specs)


class _BNReLUConvs(torch.autograd.Function):
    """``convs(relu(batch_norm(z)))`` in training mode, saving ``z`` and the batch statistics.

    The BN output is recomputed in backward from ``z`` with one multiply-add, so the second stack
    of a separable conv keeps nothing alive but its pre-BN input.
    """

    @staticmethod
    def forward(
        ctx: Any,
        z: torch.Tensor,
        weight: torch.Tensor | None,
        bias: torch.Tensor | None,
        stats: tuple[torch.Tensor | None, torch.Tensor | None, float, float],
        specs: tuple[ConvSpec, ...],
        *weights: torch.Tensor,
    ) -> torch.Tensor:
        running_mean, running_var, momentum, eps = stats
        y, mean, invstd = torch.ops.aten.native_batch_norm(
            z, weight, bias, running_mean, running_var, True, momentum, eps
        )
        ctx.specs, ctx.eps = specs, eps
        ctx.save_for_backward(z, mean, invstd, weight, bias, *weights)
        return _convs(F.relu(y), weights, specs)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        z, mean, invstd, weight, bias, *weights = ctx.saved_tensors
        scale = invstd if weight is None else invstd * weight
        shift = -mean * scale if bias is None else bias - mean * scale
        y = torch.addcmul(shift.view(1, -1, 1, 1), z, scale.view(1, -1, 1, 1))
        relu_y = F.relu(y)
        grad, grad_w = _convs_backward(grad, relu_y, weights, ctx.specs, ctx.needs_input_grad[5:])
        grad = torch.ops.aten.threshold_backward(grad, relu_y, 0)
        affine = weight is not None
        grad_z, grad_weight, grad_bias = torch.ops.aten.native_batch_norm_backward(
            grad, z, weight, None, None, mean, invstd, True, ctx.eps, [True, affine, affine]
        )
        return (grad_z, grad_weight, grad_bias, None, None, *grad_w)


def bn_relu_convs(
    z: torch.Tensor, bn: nn.BatchNorm2d, specs: tuple[ConvSpec, ...], weights: tuple[torch.Tensor, ...]
) -> torch.Tensor:
    """``convs(relu(bn(z)))`` for a BN module in training mode, with the memory-saving backward.

    Updates the running statistics exactly as ``nn.BatchNorm2d.forward`` does.
    """
    momentum = 0.0 if bn.momentum is None else bn.momentum
    if bn.track_running_stats and bn.num_batches_tracked is not None:
        bn.num_batches_tracked.add_(1)
        if bn.momentum is None:
            momentum = 1.0 / float(bn.num_batches_tracked)
    stats = (bn.running_mean, bn.running_var, momentum, bn.eps)
    return _BNReLUConvs.apply(z, bn.weight, bn.bias, stats, specs, *weights)


def _convs(h: torch.Tensor, weights: Sequence[torch.Tensor], specs: tuple[ConvSpec, ...]) -> torch.Tensor:
    for w, (stride, pad, groups) in zip(weights, specs, strict=True):
        h = F.conv2d(h, w, None, stride, pad, 1, groups)
    return h


def _convs_backward(
    grad: torch.Tensor,
    first_input: torch.Tensor,
    weights: Sequence[torch.Tensor],
    specs: tuple[ConvSpec, ...],
    needs_weight_grad: Sequence[bool],
) -> tuple[torch.Tensor, list[torch.Tensor | None]]:
    """Gradients of ``conv_n(... conv_1(first_input))`` w.r.t. ``first_input`` and the weights,
    recomputing the inner conv outputs."""
    inputs = [first_input]
    for w, (stride, pad, groups) in zip(weights[:-1], specs[:-1], strict=True):
        inputs.append(F.conv2d(inputs[-1], w, None, stride, pad, 1, groups))
    grad_w: list[torch.Tensor | None] = [None] * len(weights)
    for k in reversed(range(len(weights))):
        stride, pad, groups = specs[k]
        grad, grad_w[k], _ = torch.ops.aten.convolution_backward(
            grad,
            inputs[k],
            weights[k],
            None,
            [stride, stride],
            [pad, pad],
            [1, 1],
            False,
            [0, 0],
            groups,
            [True, needs_weight_grad[k], False],
        )
    return grad, grad_w


def _window_slices(length: int, stride: int) -> list[slice]:
    """The three taps of a 3-wide, padding-1 window over a padded axis of ``length + 2``."""
    out = (length - 1) // stride + 1
    return [slice(k, k + stride * (out - 1) + 1, stride) for k in range(3)]


def separable_max3(x: torch.Tensor, stride: int) -> torch.Tensor:
    """3x3 max pooling (padding 1) as a max over rows, then over columns: 4 cheap elementwise
    maxima instead of PyTorch's CPU max-pool kernel, which is several times slower."""
    p = F.pad(x, (1, 1, 1, 1), value=float("-inf"))
    a, b, c = _window_slices(x.shape[-1], stride)
    r = torch.maximum(torch.maximum(p[..., a], p[..., b]), p[..., c])
    a, b, c = _window_slices(x.shape[-2], stride)
    return torch.maximum(torch.maximum(r[..., a, :], r[..., b, :]), r[..., c, :])


class _MaxPool3(torch.autograd.Function):
    """Max pooling that keeps only its input for backward (no int64 index map; the indices
    are recomputed in backward, which costs one pooling pass)."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, stride: int) -> torch.Tensor:
        ctx.stride = stride
        ctx.save_for_backward(x)
        return separable_max3(x, stride)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        (x,) = ctx.saved_tensors
        s = ctx.stride
        _, indices = torch.ops.aten.max_pool2d_with_indices(x, [3, 3], [s, s], [1, 1])
        grad_x = torch.ops.aten.max_pool2d_with_indices_backward(
            grad.contiguous(memory_format=_format_of(x)), x, [3, 3], [s, s], [1, 1], [1, 1], False, indices
        )
        return grad_x, None


def _format_of(x: torch.Tensor) -> torch.memory_format:
    if x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous():
        return torch.channels_last
    return torch.contiguous_format


def max_pool3(x: torch.Tensor, stride: int, recompute: bool) -> torch.Tensor:
    if recompute:
        return _MaxPool3.apply(x, stride)
    return F.max_pool2d(x, 3, stride, 1)


def avg_pool3(x: torch.Tensor, ones: torch.Tensor, stride: int) -> torch.Tensor:
    """3x3 average pooling (padding 1, padding not counted, as ENAS/TF "SAME") as a depthwise
    conv with a fixed all-ones kernel, scaled by the number of real pixels under each window.
    The depthwise conv is several times faster than PyTorch's CPU average-pool kernel."""
    total = F.conv2d(x, ones, None, stride, 1, 1, x.shape[1])
    rows = _window_counts(x.shape[-2], stride, x.device, x.dtype)
    cols = _window_counts(x.shape[-1], stride, x.device, x.dtype)
    return total * torch.reciprocal(rows[:, None] * cols[None, :])


def _window_counts(length: int, stride: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    start = torch.arange(0, length, stride, device=device)
    return ((start + 1).clamp(max=length - 1) - (start - 1).clamp(min=0) + 1).to(dtype)
