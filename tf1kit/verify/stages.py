"""The stages `verify` compares, in the order a migration goes wrong.

Each stage has a stable identifier (used in rows, JSON and the widget) and a
sentence saying what was compared, so a report reads without this file.
"""

from __future__ import annotations

VARIABLES = "variables"
INITIAL = "initial"
FORWARD_EVAL = "forward_eval"
REGULARIZATION = "regularization"
FORWARD_TRAIN = "forward_train"
MOVING_STATS = "moving_stats"
GRADIENTS = "gradients"
OPTIMIZER = "optimizer"
STEP_PREFIX = "step_"

_DESCRIPTIONS = {
    VARIABLES: "the same variables exist, with the same shapes",
    INITIAL: "initial values, each world drawing them under DeterministicRandomTestTool",
    FORWARD_EVAL: "outputs of a forward pass with training=False",
    REGULARIZATION: "regularization losses, per variable and in total",
    FORWARD_TRAIN: "outputs of a forward pass with training=True (and its dropout rates)",
    MOVING_STATS: "non-trainable variables (batch-norm moving statistics) after that pass",
    GRADIENTS: "loss and gradients of the first training step",
    OPTIMIZER: "optimizer settings (learning rate, epsilon, betas, momentum)",
}


def step(index: int) -> str:
    """The stage holding the variables after optimizer step `index` (1-based)."""
    return f"{STEP_PREFIX}{index}"


def stage_order(steps: int) -> list[str]:
    return [VARIABLES, INITIAL, FORWARD_EVAL, REGULARIZATION, FORWARD_TRAIN, MOVING_STATS,
            GRADIENTS, OPTIMIZER] + [step(i) for i in range(1, steps + 1)]


def describe(stage: str) -> str:
    if stage.startswith(STEP_PREFIX):
        return f"variables and loss after optimizer step {stage[len(STEP_PREFIX):]}"
    return _DESCRIPTIONS[stage]


def is_step(stage: str) -> bool:
    return stage.startswith(STEP_PREFIX)
