"""`BasicRNNCell`: `output = new_state = act([inputs, state] @ kernel + bias)`."""

from __future__ import annotations

import tensorflow as tf

from tf1kit.layers.arguments import get_activation
from tf1kit.layers.base import op_input
from tf1kit.layers.input_spec import InputSpec
from tf1kit.rnn.base import LayerRNNCell, activation_name, check_supported_dtype, input_depth


class BasicRNNCell(LayerRNNCell):
    """The most basic RNN cell (TF1's `tf.nn.rnn_cell.BasicRNNCell`).

    Variables: `kernel` `[input_depth + num_units, num_units]` (get_variable's
    default initializer, glorot uniform) and `bias` `[num_units]` (zeros).

    Args:
      num_units: number of units (state and output size).
      activation: nonlinearity, a callable or a Keras activation name; tanh by default.
      reuse: reuse the variables of an existing scope.
      name: name and default variable scope (`basic_rnn_cell`).
      dtype: dtype of the variables (default: the first input's).

    Example:

    ```python
    cell = tf.compat.v1.nn.rnn_cell.BasicRNNCell(16)
    outputs, state = tf.compat.v1.nn.dynamic_rnn(cell, inputs, dtype=tf.float32)
    ```
    """

    def __init__(self, num_units, activation=None, reuse=None, name=None, dtype=None,
                 **kwargs):
        super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
        check_supported_dtype(self.dtype, self.name)
        self.input_spec = InputSpec(ndim=2)
        self._num_units = num_units
        self._activation = get_activation(activation) or tf.tanh

    @property
    def state_size(self):
        return self._num_units

    @property
    def output_size(self):
        return self._num_units

    def build(self, inputs_shape):
        depth = input_depth(inputs_shape, self)
        self._kernel = self.add_variable(
            "kernel", shape=[depth + self._num_units, self._num_units])
        self._bias = self.add_variable(
            "bias", shape=[self._num_units], initializer=tf.compat.v1.zeros_initializer())
        self.built = True

    def call(self, inputs, state):
        gate_inputs = tf.matmul(tf.concat([inputs, state], 1), op_input(self._kernel))
        output = self._activation(tf.nn.bias_add(gate_inputs, op_input(self._bias)))
        return output, output

    def get_config(self):
        return {**super().get_config(), "num_units": self._num_units,
                "activation": activation_name(self._activation)}

