"""Variable updates for moving statistics, eager or as TF1 graph ops.

Eagerly (and inside tf.function) the assignment runs at once; in a TF1 graph
it returns the assign op for the caller to collect in UPDATE_OPS.
"""

from __future__ import annotations

import tensorflow as tf


def assign_moving_average(variable, value, momentum):
    """variable -= (variable - value) * (1 - momentum)"""
    decay = tf.cast(1.0 - tf.convert_to_tensor(momentum), variable.dtype)
    delta = (tf.convert_to_tensor(variable) - tf.cast(value, variable.dtype)) * decay
    if tf.compat.v1.executing_eagerly_outside_functions():
        return variable.assign_sub(delta)
    return tf.compat.v1.assign_sub(variable, delta)


def assign_value(variable, value):
    if tf.compat.v1.executing_eagerly_outside_functions():
        return variable.assign(value)
    return tf.compat.v1.assign(variable, value)
