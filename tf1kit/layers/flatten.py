"""`Flatten` / `flatten`: keep the batch axis, merge all others."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tf1kit.layers.arguments import normalize_data_format
from tf1kit.layers.base import Layer
from tf1kit.layers.input_spec import InputSpec


class Flatten(Layer):
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
        inner = inputs.shape[1:]
        if inner.is_fully_defined():
            flat = int(np.prod(inner.as_list()))
            outputs = tf.reshape(inputs, [-1, flat])
        else:
            outputs = tf.reshape(inputs, tf.stack([tf.shape(inputs)[0], -1]))
        outputs.set_shape([inputs.shape[0], outputs.shape[1]])
        return outputs


def flatten(inputs, name=None, data_format="channels_last"):
    return Flatten(name=name, data_format=data_format)(inputs)
