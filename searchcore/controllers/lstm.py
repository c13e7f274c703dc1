"""Former home of the ``reinforce`` controller, now split into ``policy`` (the LSTM policy),
``policy_controller`` (what every rule on it shares) and ``reinforce`` (the update rule). Kept so
``from searchcore.controllers.lstm import ReinforceOptions`` (bench/nb201.py) keeps working."""

from __future__ import annotations

from searchcore.controllers.reinforce import ReinforceController, ReinforceOptions

__all__ = ["ReinforceController", "ReinforceOptions"]
