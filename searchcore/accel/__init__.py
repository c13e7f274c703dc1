"""GPU speed, one job per module (issue 10, item 3). Every helper takes the device explicitly and is
a no-op or the exact previous behaviour on CPU, so CPU results keep their meaning.

- ``backends``: cuDNN autotuning (``torch.backends.cudnn.benchmark``) on CUDA only.
- ``precision``: bf16 autocast, ``"auto"`` = on for CUDA, off on CPU; losses and metrics stay fp32.
- ``rng``: random generators on the data's device, so augmentation needs no host-to-device copy.
- ``loader``: the whole uint8 split resident on the device, crop/flip/normalise batched there.
- ``meters``: loss/accuracy sums kept on the device, read back only when asked (no per-step sync).
- ``syncs``: counts host synchronisations of a CUDA stream (``torch.cuda.set_sync_debug_mode``), the
  check that the inner loop really has none.

``torch.compile`` and CUDA graphs are not used: the shared supernet runs a different path every
step (a recompile or a new graph per architecture), and a final-training speed-up could not be
measured on this project's CPU-only machines.
"""

from searchcore.accel.backends import configure_backends
from searchcore.accel.loader import device_loader
from searchcore.accel.meters import DeviceMeter
from searchcore.accel.precision import AUTOCAST_CHOICES, autocast, resolve_autocast
from searchcore.accel.rng import augmentation_generator, device_generator, restore_generator
from searchcore.accel.syncs import count_host_syncs

__all__ = [
    "AUTOCAST_CHOICES",
    "DeviceMeter",
    "augmentation_generator",
    "autocast",
    "configure_backends",
    "count_host_syncs",
    "device_generator",
    "device_loader",
    "resolve_autocast",
    "restore_generator",
]
