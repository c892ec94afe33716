"""Dropout, disabled while `verify` runs, with the rates it would have used.

Under `DeterministicRandomTestTool` a TF1 graph and the shim run eagerly
draw the same mask on their first training call only: the graph's dropout
op then continues one random stream across `Session.run` calls, eager code
makes a new op (and seed) on every call, and Keras 3's `Dropout` draws from
its own stateless seed generator, which the tool does not reach. Masks
therefore cannot be compared across worlds and steps; instead every dropout
(TF1's `tf.nn.dropout`, Keras 3's stateless dropout) passes its input
through unchanged, and the rates are recorded so they can be compared.
"""

from __future__ import annotations

import contextlib
import threading

import tensorflow as tf
from tensorflow.python.ops import nn_ops

_lock = threading.RLock()


@contextlib.contextmanager
def dropout_disabled(record: list):
    """Every TF dropout returns its input; `record` gets each call's rate."""
    original = nn_ops._dropout

    def no_dropout(x, rate, noise_shape, *args, **kwargs):
        record.append(_static_rate(rate))
        return tf.identity(x)

    with _lock:
        nn_ops._dropout = no_dropout
        try:
            yield record
        finally:
            nn_ops._dropout = original


def _static_rate(rate):
    value = tf.get_static_value(rate) if tf.is_tensor(rate) else rate
    if callable(value):
        value = value()
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
