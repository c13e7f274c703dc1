"""ENAS micro search space (Pham et al. 2018, §2.3): a normal and a reduction cell of B nodes.

Each node takes two inputs (either cell input or an earlier node), applies one operation among
identity, sep3, sep5, avg3 and max3 to each and sums them; the loose ends are concatenated. The
cell machinery is ``_micro_space``/``_micro_net``; this module is the variant: the entry point
passes ENAS' op list, op table and defaults (timm's model entry points pass their dicts the same way).
"""

from __future__ import annotations

from typing import Any

from searchcore.spaces import register_space
from searchcore.spaces._micro_space import (
    MAX_NODES,
    MicroArch,
    MicroNode,
    MicroSpace,
    create_micro_space,
    input_labels,
    micro_space_class,
)
from searchcore.spaces.ops import MICRO_OPS, OPS

ENAS_MICRO: dict[str, Any] = {
    "description": "ENAS micro: normal + reduction cell; each node sums two ops on two earlier nodes",
    "ops": MICRO_OPS,
    "op_table": OPS,
    "num_nodes": 5,
    "cells_per_stage": 2,
    "channels": 20,
}

EnasMicroSpace = micro_space_class("enas-micro", ENAS_MICRO, module=__name__)
EnasMicroOptions = EnasMicroSpace.Options


@register_space
def enas_micro(**options: Any) -> MicroSpace:
    """The ``enas-micro`` space from keyword options (``ops``, ``num_nodes``, ``cells_per_stage``,
    ``channels``)."""
    return create_micro_space("enas-micro", ENAS_MICRO, options)


__all__ = [
    "ENAS_MICRO",
    "MAX_NODES",
    "EnasMicroOptions",
    "EnasMicroSpace",
    "MicroArch",
    "MicroNode",
    "enas_micro",
    "input_labels",
]
