"""`Dropout` / `dropout`: zero a fraction `rate` of inputs while training.

Uses TF's stateful `tf.nn.dropout`, whose seed comes from `get_seed` as in
TF1, so the determinism tool reproduces the official masks. A layer built
with `seed=` uses seed, seed+1, ... on successive calls, as TF1 did.
"""

from __future__ import annotations

import numbers

import tensorflow as tf

from tf1kit.layers.base import Layer
from tf1kit.layers.branching import resolve_training, smart_cond


class Dropout(Layer):
    """Zeroes a fraction `rate` of the inputs when training, scaling the rest.

    Args:
        rate: fraction to drop (a float or a scalar tensor).
        noise_shape: shape of the keep mask, broadcast over the inputs; None
            entries take the input's size.
        seed: operation seed; successive calls use seed, seed+1, ...

    Example:

    ```python
    tf.compat.v1.layers.Dropout(0.5)(tf.ones([2, 4]), training=True)
    ```
    """

    _config_arguments = ("rate", "noise_shape", "seed")

    def __init__(self, rate=0.5, noise_shape=None, seed=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        if isinstance(rate, numbers.Real) and not 0 <= rate <= 1:
            raise ValueError(
                f"Invalid value received for argument `rate`. Expected a float "
                f"value between 0 and 1. Received: rate={rate}")
        self.rate = rate
        self.noise_shape = noise_shape
        self.seed = seed
        self._next_seed = seed

    def call(self, inputs, training=False):
        if isinstance(self.rate, numbers.Real) and self.rate == 0:
            return tf.identity(inputs)
        training = resolve_training(training)
        return smart_cond(training, lambda: self._drop(inputs), lambda: tf.identity(inputs))

    def compute_output_shape(self, input_shape):
        return input_shape  # unchanged, and as given (TF1 did not convert it)

    def _drop(self, inputs):
        return tf.nn.dropout(inputs, rate=self.rate, noise_shape=self._noise_shape(inputs),
                             seed=self._take_seed())

    def _take_seed(self):
        seed = self._next_seed
        if seed is not None:
            self._next_seed = seed + 1
        return seed

    def _noise_shape(self, inputs):
        if self.noise_shape is None:
            return None
        dynamic = tf.shape(inputs)
        return tf.stack([dynamic[i] if size is None else size
                         for i, size in enumerate(self.noise_shape)])


def dropout(inputs, rate=0.5, noise_shape=None, seed=None, training=False, name=None):
    layer = Dropout(rate, noise_shape=noise_shape, seed=seed, name=name)
    return layer(inputs, training=training)
