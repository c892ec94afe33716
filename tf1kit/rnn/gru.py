"""`GRUCell`: the gated recurrent unit of Cho et al. (2014), TF1's layout."""

from __future__ import annotations

import tensorflow as tf

from tf1kit.layers.arguments import get_activation, get_initializer
from tf1kit.layers.base import op_input
from tf1kit.layers.input_spec import InputSpec
from tf1kit.rnn.base import LayerRNNCell, activation_name, check_supported_dtype, input_depth


class GRUCell(LayerRNNCell):
    """TF1's `tf.nn.rnn_cell.GRUCell`.

    Variables: `gates/kernel` `[input_depth + num_units, 2 * num_units]` and
    `gates/bias` (reset gate r, update gate u; the bias starts at 1.0), then
    `candidate/kernel` `[input_depth + num_units, num_units]` and
    `candidate/bias` (zeros). One step:
    `r, u = sigmoid([x, h] @ Wg + bg)`, `c = act([x, r * h] @ Wc + bc)`,
    `h' = u * h + (1 - u) * c`; the output is `h'`.

    Args:
      num_units: number of units.
      activation: nonlinearity of the candidate; tanh by default.
      reuse: reuse the variables of an existing scope.
      kernel_initializer: initializer of both kernels (get_variable's default if None).
      bias_initializer: initializer of both biases (1.0 for the gates and 0.0
        for the candidate if None).
      name: name and default variable scope (`gru_cell`).
      dtype: dtype of the variables (default: the first input's).

    Example:

    ```python
    cell = tf.compat.v1.nn.rnn_cell.GRUCell(32)
    outputs, state = tf.compat.v1.nn.dynamic_rnn(cell, inputs, dtype=tf.float32)
    ```
    """

    def __init__(self, num_units, activation=None, reuse=None, kernel_initializer=None,
                 bias_initializer=None, name=None, dtype=None, **kwargs):
        super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
        check_supported_dtype(self.dtype, self.name)
        self.input_spec = InputSpec(ndim=2)
        self._num_units = num_units
        self._activation = get_activation(activation) or tf.tanh
        self._kernel_initializer = get_initializer(kernel_initializer)
        self._bias_initializer = get_initializer(bias_initializer)

    @property
    def state_size(self):
        return self._num_units

    @property
    def output_size(self):
        return self._num_units

    def build(self, inputs_shape):
        depth = input_depth(inputs_shape, self) + self._num_units
        self._gate_kernel = self.add_variable(
            "gates/kernel", shape=[depth, 2 * self._num_units],
            initializer=self._kernel_initializer)
        self._gate_bias = self.add_variable(
            "gates/bias", shape=[2 * self._num_units],
            initializer=self._bias_initializer or tf.compat.v1.constant_initializer(1.0))
        self._candidate_kernel = self.add_variable(
            "candidate/kernel", shape=[depth, self._num_units],
            initializer=self._kernel_initializer)
        self._candidate_bias = self.add_variable(
            "candidate/bias", shape=[self._num_units],
            initializer=self._bias_initializer or tf.compat.v1.zeros_initializer())
        self.built = True

    def call(self, inputs, state):
        gates = tf.nn.bias_add(
            tf.matmul(tf.concat([inputs, state], 1), op_input(self._gate_kernel)),
            op_input(self._gate_bias))
        reset, update = tf.split(tf.sigmoid(gates), num_or_size_splits=2, axis=1)
        candidate = tf.nn.bias_add(
            tf.matmul(tf.concat([inputs, reset * state], 1), op_input(self._candidate_kernel)),
            op_input(self._candidate_bias))
        new_state = update * state + (1 - update) * self._activation(candidate)
        return new_state, new_state

    def get_config(self):
        return {**super().get_config(), "num_units": self._num_units,
                "activation": activation_name(self._activation)}
