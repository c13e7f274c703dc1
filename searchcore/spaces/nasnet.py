"""NASNet search space (Zoph et al. 2018): a normal and a reduction cell of B blocks.

Each block picks two hidden states (the cell's two inputs or earlier blocks), one of the 13
operations for each, and a combine: element-wise ``add``, or ``concat`` along the filters (then a
1x1 ReLU-conv-BN back to the cell's filters, so later blocks read C channels). The unused hidden
states are concatenated as the cell's output (mixed by a 1x1 conv: the 1x1 convolution NASNet
applies to a cell input to reconcile its shape, applied once where the cell ends). Filters double
at each reduction cell, whose ops on the cell inputs have stride 2; ``cells_per_stage`` (N) and the
initial filters (``channels``) are user settings.

A block's decisions come in the paper's order (§3, steps 1-5): input, input, op, op, combine. The
cell machinery is ENAS-micro's (``_micro_space``/``_micro_net``): weights shared across
architectures in a supernet (``forward(x, arch)``), and a standalone child computing the same
function with those weights (``load_from_supernet``). Drop path (ScheduledDropPath) applies to
every non-identity op output with the child's ``drop_path_prob``, read at each forward.
"""

from __future__ import annotations

from typing import Any

from searchcore.spaces import register_space
from searchcore.spaces._micro_space import COMBINES, MicroSpace, create_micro_space, micro_space_class
from searchcore.spaces._nasnet_ops import NASNET_OP_TABLE, NASNET_OPS

NASNET: dict[str, Any] = {
    "description": "NASNet: normal + reduction cell of B blocks; each block applies two of 13 ops to two "
                   "earlier hidden states and adds or concatenates them",
    "ops": NASNET_OPS,
    "op_table": NASNET_OP_TABLE,
    "combines": COMBINES,
    "num_nodes": 5,  # B = 5 blocks (the paper's)
    "cells_per_stage": 2,  # N: small enough to search on a CPU; the paper's CIFAR-10 models use 6 or 7
    "channels": 20,
}

NasnetSpace = micro_space_class("nasnet", NASNET, module=__name__)
NasnetOptions = NasnetSpace.Options


@register_space
def nasnet(**options: Any) -> MicroSpace:
    """The ``nasnet`` space from keyword options (``ops``, ``combines``, ``num_nodes``,
    ``cells_per_stage``, ``channels``)."""
    return create_micro_space("nasnet", NASNET, options)


__all__ = ["NASNET", "NasnetOptions", "NasnetSpace", "nasnet"]
