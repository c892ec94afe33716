"""`training` may be a Python bool or a tensor: pick a branch accordingly."""

from __future__ import annotations

import tensorflow as tf


def constant_value(flag):
    """True/False when `flag` is known without running the graph, else None."""
    if flag is None:
        return None
    if isinstance(flag, (bool, int)):
        return bool(flag)
    if isinstance(flag, tf.Variable):
        return None
    value = tf.get_static_value(flag)
    return None if value is None else bool(value)


def smart_cond(flag, true_fn, false_fn):
    """Runs one branch when `flag` is static, builds a tf.cond otherwise."""
    value = constant_value(flag)
    if value is None:
        return tf.cond(tf.cast(flag, tf.bool), true_fn, false_fn)
    return true_fn() if value else false_fn()


def resolve_training(training):
    """`training=None` means "the mode of the Keras call around me".

    Inside a Keras layer called with training=True, TF1 layers given
    training=None trained too (the Keras call context's learning phase, as in
    the official shim); anywhere else None means inference, TF1's default.
    """
    if training is not None:
        return training
    from keras.src.backend.common import global_state

    context = global_state.get_global_attribute("current_call_ctx")
    inherited = getattr(context, "training", None)
    return False if inherited is None else inherited
