"""Why an architecture is degenerate: the rules behind the image spaces' ``degenerate_reasons``.

A search that has learned nothing, or a weight-sharing supernet that rewards the cheapest path
early on, tends to return cells without learnable operations (DARTS' collapse onto skip
connections, Zela et al. 2020; an untrained ENAS controller's greedy choice of all ``identity``).
Trained from scratch such a network is little more than its stem and classifier, and it scores near
chance. The rules here name that case in sentences a user can read; each space applies the ones
that fit its layout.

Whether an operation has weights is measured, not listed: the op is built once at stride 1 with
equal input and output channels (where ENAS' identity and pooling ops have no 1x1 conv; the strided
or channel-changing forms get one, but that conv only adapts shapes) and its parameters counted, so a
variant's own op table is judged by what its operations are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any

from torch import nn

PROBE_CHANNELS = 4  # channels of the probe module: any size gives the same answer, this one is cheap


def module_has_parameters(module: nn.Module | None) -> bool:
    """True when ``module`` (None: a zero op) has a trainable parameter."""
    return module is not None and any(p.requires_grad for p in module.parameters())


@lru_cache(maxsize=512)
def factory_has_parameters(factory: Callable[..., nn.Module]) -> bool:
    """Whether the op an ``ops.OPS``-style factory ``(c_in, c_out, stride, affine)`` builds has
    weights at stride 1 with equal channels (cached per factory: op tables are module-level)."""
    return module_has_parameters(factory(PROBE_CHANNELS, PROBE_CHANNELS, 1, affine=True))


def listing(names: Iterable[str]) -> str:
    """``"a"``, ``"a and b"``, ``"a, b and c"`` (sorted, each once)."""
    items = sorted(set(names))
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def parameter_free_reason(where: str, ops: Sequence[str], has_params: Callable[[str], bool]) -> list[str]:
    """The all-parameter-free rule: ``[sentence]`` when none of ``ops`` has weights, else ``[]``."""
    if not ops or any(has_params(op) for op in ops):
        return []
    return [f"{where} has no operation with weights: it uses only {listing(ops)}"]


def micro_cell_reasons(name: str, nodes: Sequence[Any], has_params: Callable[[str], bool]) -> list[str]:
    """Rules for one micro cell (nodes with ``in0, op0, in1, op1``; inputs 0 = c_{k-2}, 1 = c_{k-1}).

    Every node state derives from the cell inputs its nodes read; when no node reads input 1, the
    cell transforms only the output of the cell two back and its predecessor's output is merely
    concatenated through, unprocessed.
    """
    ops = [op for node in nodes for op in (node.op0, node.op1)]
    reasons = parameter_free_reason(f"the {name} cell", ops, has_params)
    if nodes and all(1 not in (node.in0, node.in1) for node in nodes):
        reasons.append(f"no operation of the {name} cell reads the previous cell's output c_{{k-1}}: "
                       "the cell only transforms c_{k-2}, the output of the cell two back")
    return reasons


def dag_reasons(edges: Sequence[tuple[int, int, str]], num_nodes: int, *, is_zero: Callable[[str], bool],
                has_params: Callable[[str], bool]) -> list[str]:
    """Rules for a cell DAG with input node 0 and output node ``num_nodes - 1``.

    ``edges`` are ``(target, source, op)`` with ``source < target``. A node is *live* when some
    path of non-zero edges reaches it from the input, *learnt* when such a path has an edge with
    weights. The output must be learnt: otherwise it is constant zero, or only pooled and copied.
    """
    live, learnt = [False] * num_nodes, [False] * num_nodes
    live[0] = True
    on_paths: list[set[str]] = [set() for _ in range(num_nodes)]  # ops on the live paths into a node
    for target, source, op in sorted(edges):
        if is_zero(op) or not live[source]:
            continue
        live[target] = True
        learnt[target] = learnt[target] or learnt[source] or has_params(op)
        on_paths[target] |= on_paths[source] | {op}
    out = num_nodes - 1
    if not live[out]:
        return ["the cell's output is always zero: every path from its input to its output has a 'none' edge"]
    if learnt[out]:
        return []
    return [f"the cell's output is reached only through {listing(on_paths[out])}: no path from its input "
            "to its output passes through an operation with weights"]


__all__ = ["dag_reasons", "factory_has_parameters", "listing", "micro_cell_reasons",
           "module_has_parameters", "parameter_free_reason"]
