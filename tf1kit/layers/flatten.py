"""`Flatten` / `flatten`: keep the batch axis, merge all others."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tf1kit.layers.arguments import normalize_data_format
from tf1kit.layers.base import Layer
from tf1kit.layers.input_spec import InputSpec


class Flatten(Layer):
    """Flattens all axes but the first (batch) one.

    Args:
        data_format: "channels_last" (default) or "channels_first"; for the
            latter, channels are moved last first, so the flat order matches.

    Example:

    ```python
    tf.compat.v1.layers.Flatten()(tf.ones([2, 3, 4]))   # shape [2, 12]
    ```
    """

    _config_arguments = ("data_format",)

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format)
        self.input_spec = InputSpec(min_ndim=1)

    def call(self, inputs):
        rank = inputs.shape.rank
        if self.data_format == "channels_first" and rank is not None and rank > 2:
            # Put channels last first, so the flat order matches channels_last.
            inputs = tf.transpose(inputs, [0, *range(2, rank), 1])
        if rank == 1:
            return tf.expand_dims(inputs, 1)
        batch, inner = inputs.shape[0], inputs.shape[1:]
        if inner.is_fully_defined():
            flat = int(np.prod(inner.as_list(), dtype=np.int64))
            outputs = tf.reshape(inputs, [-1, flat])
        elif batch is not None:
            # A constant, not tf.shape(): a static batch may exceed int32.
            outputs = tf.reshape(inputs, [int(batch), -1])
        else:
            outputs = tf.reshape(inputs, tf.stack([tf.shape(inputs)[0], -1]))
        outputs.set_shape([batch, outputs.shape[1]])
        return outputs

    def compute_output_shape(self, input_shape):
        dims = tf.TensorShape(input_shape).as_list()
        if not dims:
            return tf.TensorShape([1])
        inner = dims[1:]
        flat = int(np.prod(inner, dtype=np.int64)) if all(inner) else None
        return tf.TensorShape([dims[0], flat])


def flatten(inputs, name=None, data_format="channels_last"):
    return Flatten(name=name, data_format=data_format)(inputs)
