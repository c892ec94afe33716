"""`BasicLSTMCell`: the LSTM without peepholes, projection or clipping."""

from __future__ import annotations

import tensorflow as tf

from tf1kit.layers.arguments import get_activation
from tf1kit.layers.base import op_input
from tf1kit.layers.input_spec import InputSpec
from tf1kit.rnn.base import (
    LayerRNNCell, activation_name, check_supported_dtype, input_depth, split_lstm_state)
from tf1kit.rnn.state_tuple import LSTMStateTuple


class BasicLSTMCell(LayerRNNCell):
    """TF1's `tf.nn.rnn_cell.BasicLSTMCell` (Zaremba et al., 2014).

    Variables: `kernel` `[input_depth + num_units, 4 * num_units]` and `bias`
    `[4 * num_units]` (zeros), gates in the order i, j, f, o. `forget_bias`
    is added to the forget gate's pre-activation on every step (it is not in
    the bias variable). One step:
    `c' = c * sigmoid(f + forget_bias) + sigmoid(i) * act(j)`,
    `h' = act(c') * sigmoid(o)`.

    Args:
      num_units: number of units.
      forget_bias: added to the forget gate (1.0).
      state_is_tuple: states are `LSTMStateTuple(c, h)` (True) or `[c, h]`
        concatenated on axis 1.
      activation: nonlinearity; tanh by default.
      reuse: reuse the variables of an existing scope.
      name: name and default variable scope (`basic_lstm_cell`).
      dtype: dtype of the variables (default: the first input's).

    Example:

    ```python
    cell = tf.compat.v1.nn.rnn_cell.BasicLSTMCell(32, forget_bias=0.0)
    outputs, (c, h) = tf.compat.v1.nn.dynamic_rnn(cell, inputs, dtype=tf.float32)
    ```
    """

    def __init__(self, num_units, forget_bias=1.0, state_is_tuple=True, activation=None,
                 reuse=None, name=None, dtype=None, **kwargs):
        super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
        check_supported_dtype(self.dtype, self.name)
        self.input_spec = InputSpec(ndim=2)
        self._num_units = num_units
        self._forget_bias = forget_bias
        self._state_is_tuple = state_is_tuple
        self._activation = get_activation(activation) or tf.tanh

    @property
    def state_size(self):
        if self._state_is_tuple:
            return LSTMStateTuple(self._num_units, self._num_units)
        return 2 * self._num_units

    @property
    def output_size(self):
        return self._num_units

    def build(self, inputs_shape):
        depth = input_depth(inputs_shape, self)
        self._kernel = self.add_variable(
            "kernel", shape=[depth + self._num_units, 4 * self._num_units])
        self._bias = self.add_variable(
            "bias", shape=[4 * self._num_units], initializer=tf.compat.v1.zeros_initializer())
        self.built = True

    def call(self, inputs, state):
        if self._state_is_tuple:
            c, h = split_lstm_state(self, state)
        else:
            c, h = tf.split(state, num_or_size_splits=2, axis=1)
        gates = tf.nn.bias_add(tf.matmul(tf.concat([inputs, h], 1), op_input(self._kernel)), op_input(self._bias))
        i, j, f, o = tf.split(gates, num_or_size_splits=4, axis=1)
        forget_bias = tf.constant(self._forget_bias, dtype=f.dtype)
        new_c = c * tf.sigmoid(f + forget_bias) + tf.sigmoid(i) * self._activation(j)
        new_h = self._activation(new_c) * tf.sigmoid(o)
        if self._state_is_tuple:
            return new_h, LSTMStateTuple(new_c, new_h)
        return new_h, tf.concat([new_c, new_h], 1)

    def get_config(self):
        return {**super().get_config(), "num_units": self._num_units,
                "forget_bias": self._forget_bias, "state_is_tuple": self._state_is_tuple,
                "activation": activation_name(self._activation)}
