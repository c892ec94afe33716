"""Variable updates for moving statistics, eager or as TF1 graph ops.

Eagerly (and inside tf.function) the assignment runs at once; in a TF1 graph
it returns the assign op for the caller to collect in UPDATE_OPS.

TF1 rounded the decay `1 - momentum` two ways, and the last bits matter for
large statistics (a 0.9997 decay: 3.3e-5 apart on every update). The plain
path took `1.0 - momentum` in Python, in float64, then made it a float32
tensor; the fused path first made `momentum` a tensor (float32 for a Python
float) and subtracted it in float32.
"""

from __future__ import annotations

import numbers

import numpy as np
import tensorflow as tf


def assign_moving_average(variable, value, momentum):
    """variable -= (variable - value) * (1 - momentum)

    `1 - momentum` is taken in `momentum`'s own arithmetic: Python's for a
    Python float (TF1's plain path), the tensor's for a tensor (its fused one).
    """
    decay = tf.cast(tf.convert_to_tensor(1.0 - momentum), variable.dtype)
    delta = (tf.convert_to_tensor(variable) - tf.cast(value, variable.dtype)) * decay
    if tf.compat.v1.executing_eagerly_outside_functions():
        return variable.assign_sub(delta)
    return tf.compat.v1.assign_sub(variable, delta)


def fused_decay(momentum):
    """1 - momentum as TF1's fused path computed it, as a Python float (for
    the kernel's `exponential_avg_factor`): in the dtype `momentum` converts
    to, float32 for a Python number. None for a tensor momentum."""
    if isinstance(momentum, np.generic):
        dtype = momentum.dtype.type
    elif isinstance(momentum, numbers.Real):
        dtype = np.float32
    else:
        return None
    return float(dtype(1.0) - dtype(momentum))


def assign_value(variable, value):
    if tf.compat.v1.executing_eagerly_outside_functions():
        return variable.assign(value)
    return tf.compat.v1.assign(variable, value)
