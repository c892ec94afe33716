"""A Keras 3 variable that answers to its TF1 name.

Keras 3 forbids `/` in variable names, but TF1 code, checkpoints and the
migration guide all speak `model/conv2d/kernel:0`. The Keras name stays the
last path component (`kernel`), `path` becomes the TF1 path and `name` reports
the full TF1 name, so both worlds see what they expect.
"""

from __future__ import annotations

import contextlib

import tensorflow as tf
import keras
from keras.src.backend.common import global_state


class TF1Variable(keras.Variable):
    """A `keras.Variable` created by `get_variable`, named the TF1 way."""

    def __init__(self, tf1_name: str, **kwargs):
        self._tf1_name = tf1_name
        super().__init__(name=tf1_name.rsplit("/", 1)[-1], **kwargs)
        self._path = tf1_name
        # Reuse checks read these on every get_variable: compute them once.
        self._tf_shape = tf.TensorShape(self.shape)
        self.tf_dtype = tf.as_dtype(self._dtype)

    @property
    def name(self):
        return f"{self._tf1_name}:0"

    @property
    def tf1_name(self) -> str:
        """The name TF1 gave this variable, without the `:0` suffix."""
        return self._tf1_name

    def _initialize(self, value):
        # The backing tf.Variable carries the full TF1 name too, so that
        # anything reading `v.value.name` (SavedModel, TF tooling) agrees.
        self._value = tf.Variable(
            value,
            dtype=self._dtype,
            trainable=self.trainable,
            name=self._tf1_name,
            aggregation=self._map_aggregation(self.aggregation),
            synchronization=self._map_synchronization(self.synchronization),
        )

    @property
    def dtype(self):
        # Keras 3 spells dtypes as strings; TF1 code reads `v.dtype.base_dtype`.
        name = super().dtype
        spelled = _TF1_DTYPES.get(name)
        if spelled is None:
            spelled = _TF1_DTYPES[name] = TF1DType(name)
        return spelled

    def get_shape(self):
        # TensorFlow's variable store compares shapes through get_shape().
        return self._tf_shape


class TF1DType(str):
    """A Keras dtype string ("float32") that also answers tf.DType's attributes."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(tf.as_dtype(str(self)), name)


_TF1_DTYPES: dict = {}  # one TF1DType per dtype name, read on every dtype access


@contextlib.contextmanager
def outside_keras_call():
    """Steps out of the Keras call that is tracing or naming the forward pass.

    Functional and Sequential models trace `call` inside a stateless scope,
    where Keras refuses to create real variables; TF1 code creates its state
    during the first call, so creation steps out of that scope. Keras' name
    scope stack is cleared too, so nested Keras layers built here get the
    paths TF1 gave them (`dense/kernel`, not `outer_layer/dense/kernel`).
    """
    saved = {key: global_state.get_global_attribute(key)
             for key in ("stateless_scope", "name_scope_stack")}
    for key in saved:
        global_state.set_global_attribute(key, None)
    try:
        yield
    finally:
        for key, value in saved.items():
            global_state.set_global_attribute(key, value)
