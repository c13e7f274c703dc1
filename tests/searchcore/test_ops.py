"""The shared operation table: shapes, memory formats, and the memory-saving backward."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from searchcore.spaces._fused import relu_convs
from searchcore.spaces.ops import MACRO_OPS, MICRO_OPS, OPS, FactorizedReduce, is_plain_identity, make_op


def _half(size: int) -> int:
    return (size + 1) // 2


def test_tables_cover_the_space_ops() -> None:
    assert set(MICRO_OPS) | set(MACRO_OPS) == set(OPS)
    assert MICRO_OPS == ("identity", "sep3", "sep5", "avg3", "max3")
    assert MACRO_OPS == ("conv3", "conv5", "sep3", "sep5", "max3", "avg3")


@pytest.mark.parametrize("name", sorted(OPS))
@pytest.mark.parametrize(("c_in", "size"), [(1, 8), (3, 9), (6, 16)])
def test_stride_one_keeps_and_stride_two_halves(name: str, c_in: int, size: int) -> None:
    x = torch.randn(2, c_in, size, size + 2)
    same = make_op(name, c_in, c_in, 1)
    assert same(x).shape == (2, c_in, size, size + 2)
    wider = make_op(name, c_in, 2 * c_in, 1)
    assert wider(x).shape == (2, 2 * c_in, size, size + 2)
    down = make_op(name, c_in, 2 * c_in, 2)
    assert down(x).shape == (2, 2 * c_in, _half(size), _half(size + 2))
    down_same = make_op(name, c_in, c_in, 2)
    assert down_same(x).shape == (2, c_in, _half(size), _half(size + 2))


@pytest.mark.parametrize("name", sorted(OPS))
@pytest.mark.parametrize("stride", [1, 2])
def test_channels_last_gives_the_same_values_and_gradients(name: str, stride: int) -> None:
    torch.manual_seed(0)
    op = make_op(name, 4, 8, stride).double()
    x = torch.randn(3, 4, 10, 10, dtype=torch.float64, requires_grad=True)
    out = op(x)
    (out * torch.arange(out.numel(), dtype=out.dtype).view_as(out)).sum().backward()
    ref_grads = [p.grad.clone() for p in op.parameters()]
    ref_x = x.grad.clone()
    op.zero_grad()
    op_cl = op.to(memory_format=torch.channels_last)
    x_cl = x.detach().to(memory_format=torch.channels_last).requires_grad_(True)
    out_cl = op_cl(x_cl)
    (out_cl * torch.arange(out.numel(), dtype=out.dtype).view_as(out)).sum().backward()
    torch.testing.assert_close(out_cl, out.detach())
    torch.testing.assert_close(x_cl.grad, ref_x)
    for p, ref in zip(op_cl.parameters(), ref_grads, strict=True):
        torch.testing.assert_close(p.grad, ref)


def test_affine_flag_controls_batchnorm_parameters() -> None:
    for name in ("sep3", "conv3", "avg3"):
        with_affine = make_op(name, 4, 8, 2, affine=True)
        without = make_op(name, 4, 8, 2, affine=False)
        bns = [m for m in without.modules() if isinstance(m, nn.BatchNorm2d)]
        assert bns and all(m.weight is None for m in bns)
        assert all(m.weight is not None for m in with_affine.modules() if isinstance(m, nn.BatchNorm2d))


def test_identity_variants() -> None:
    assert is_plain_identity(make_op("identity", 4, 4, 1))
    assert isinstance(make_op("identity", 4, 8, 2), FactorizedReduce)
    assert not is_plain_identity(make_op("identity", 4, 8, 1))
    x = torch.randn(2, 4, 5, 5)
    assert make_op("identity", 4, 4, 1)(x) is x


def test_pools_add_a_conv_only_when_shape_changes() -> None:
    def has_params(op: nn.Module) -> bool:
        return any(True for _ in op.parameters())

    assert not has_params(make_op("max3", 4, 4, 1))
    assert not has_params(make_op("avg3", 4, 4, 1))
    assert has_params(make_op("max3", 4, 8, 1))
    assert has_params(make_op("avg3", 4, 4, 2))


def test_avg_pool_ignores_padding() -> None:
    x = torch.ones(1, 1, 4, 4)
    torch.testing.assert_close(make_op("avg3", 1, 1, 1)(x), x)


def test_factorized_reduce_reads_both_pixel_grids() -> None:
    fr = FactorizedReduce(1, 2, affine=False).eval()
    with torch.no_grad():
        fr.conv_1.weight.fill_(1.0)
        fr.conv_2.weight.fill_(1.0)
    x = torch.zeros(1, 1, 5, 5)
    x[0, 0, 1, 1] = 1.0  # an odd pixel: only the shifted path sees it
    out = fr(x)
    assert out.shape == (1, 2, 3, 3)
    assert out[0, 0].abs().sum() == 0
    assert out[0, 1, 0, 0] > 0


def test_make_op_rejects_unknown_names_and_strides() -> None:
    with pytest.raises(ValueError, match="unknown operation"):
        make_op("conv7", 4, 4, 1)
    with pytest.raises(ValueError, match="stride"):
        make_op("sep3", 4, 4, 3)


@pytest.mark.parametrize("stride", [1, 2])
def test_recomputing_backward_matches_autograd(stride: int) -> None:
    torch.manual_seed(0)
    x = torch.randn(2, 3, 9, 9, dtype=torch.float64, requires_grad=True)
    w_dw = torch.randn(3, 1, 5, 5, dtype=torch.float64, requires_grad=True)
    w_pw = torch.randn(4, 3, 1, 1, dtype=torch.float64, requires_grad=True)
    specs = ((stride, 2, 3), (1, 0, 1))
    assert torch.autograd.gradcheck(
        lambda *a: relu_convs(a[0], specs, a[1:], recompute=True), (x, w_dw, w_pw)
    )
    plain = relu_convs(x, specs, (w_dw, w_pw), recompute=False)
    fused = relu_convs(x, specs, (w_dw, w_pw), recompute=True)
    torch.testing.assert_close(fused, plain)
    g = torch.randn_like(plain)
    ref = torch.autograd.grad(plain, (x, w_dw, w_pw), g)
    got = torch.autograd.grad(fused, (x, w_dw, w_pw), g)
    for a, b in zip(got, ref, strict=True):
        torch.testing.assert_close(a, b)


def test_sep_conv_saves_less_for_backward_in_training() -> None:
    op = make_op("sep3", 8, 8, 1).train()
    x = torch.randn(4, 8, 16, 16, requires_grad=True)

    def saved_bytes() -> int:
        storages: dict[int, int] = {}

        def pack(t: torch.Tensor) -> torch.Tensor:
            storages[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
            return t

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            op(x)
        return sum(storages.values())

    training = saved_bytes()
    op.eval()  # eval with grad enabled runs the plain ops (and keeps their activations)
    plain = saved_bytes()
    act = x.numel() * 4
    assert training <= 4 * act + 8192  # input, pw1 out, bn1 out, pw2 out (+ weights, BN stats)
    assert plain - training > 1.9 * act  # the plain path keeps 6 activations


@pytest.mark.parametrize("name", ["sep3", "sep5", "conv3", "max3", "identity"])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("stride", [1, 2])
def test_memory_saving_training_path_matches_plain_autograd(
    name: str, affine: bool, stride: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    import searchcore.spaces.ops as ops_module

    torch.manual_seed(0)
    fused = make_op(name, 4, 6, stride, affine=affine).double().train()
    plain = make_op(name, 4, 6, stride, affine=affine).double().train()
    with torch.no_grad():
        for m in fused.modules():
            if isinstance(m, nn.BatchNorm2d) and affine:  # away from BN's identity initialisation
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
    plain.load_state_dict(fused.state_dict())
    x = torch.randn(3, 4, 9, 9, dtype=torch.float64)
    g = torch.randn_like(fused(x.clone()))
    fused.load_state_dict(plain.state_dict())  # undo that forward's running-statistics update

    def run(op: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
        xi = x.clone().requires_grad_(True)
        out = op(xi)
        out.backward(g)
        return out.detach(), xi.grad

    out_f, gx_f = run(fused)
    monkeypatch.setattr(ops_module, "_recompute", lambda module, x: False)
    out_p, gx_p = run(plain)
    torch.testing.assert_close(out_f, out_p)
    torch.testing.assert_close(gx_f, gx_p)
    for (n, a), b in zip(fused.named_parameters(), plain.parameters(), strict=True):
        torch.testing.assert_close(a.grad, b.grad, msg=n)
    for (n, a), b in zip(fused.named_buffers(), plain.buffers(), strict=True):
        torch.testing.assert_close(a, b, msg=n)
