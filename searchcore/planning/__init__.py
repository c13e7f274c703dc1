"""Planning a run from its budget: measured step costs, the size ladders and the planner."""

from searchcore.planning.costs import MEASURE_BATCH, StepTiming, measure_step, random_batch
from searchcore.planning.plan import FinalPlan, SearchPlan
from searchcore.planning.planner import (
    MIN_CONTROLLER_STEPS,
    MIN_FINAL_EPOCHS,
    MIN_SEARCH_EPOCHS,
    default_measure,
    plan_final,
    plan_search,
)

__all__ = ["MEASURE_BATCH", "MIN_CONTROLLER_STEPS", "MIN_FINAL_EPOCHS", "MIN_SEARCH_EPOCHS", "FinalPlan",
           "SearchPlan", "StepTiming", "default_measure", "measure_step", "plan_final", "plan_search",
           "random_batch"]
