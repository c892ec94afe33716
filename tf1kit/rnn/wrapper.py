"""Cell wrappers: the base, `ResidualWrapper` and `DeviceWrapper`.

A TF1 wrapper is an `RNNCell` that calls the cell it wraps without entering
a scope of its own, so wrapping changes no variable name:
`DropoutWrapper(LSTMCell(n))` under `dynamic_rnn` still makes
`rnn/lstm_cell/kernel`. Its own weight lists stay empty, as in TF1.
"""

from __future__ import annotations

import tensorflow as tf

from tf1kit.rnn.base import RNNCell, assert_like_rnncell


class RNNCellWrapper(RNNCell):
    """Base of the wrappers: sizes, zero state and build come from `cell`."""

    def __init__(self, cell, *args, **kwargs):
        super().__init__(*args, **kwargs)
        assert_like_rnncell("cell", cell)
        self.cell = cell
        self._track_cell(cell, "cell")

    def __call__(self, inputs, state, scope=None):
        return self._call_wrapped_cell(inputs, state, cell_call_fn=self.cell.__call__,
                                       scope=scope)

    def _call_wrapped_cell(self, inputs, state, cell_call_fn, **kwargs):
        raise NotImplementedError

    @property
    def wrapped_cell(self):
        return self.cell

    @property
    def state_size(self):
        return self.cell.state_size

    @property
    def output_size(self):
        return self.cell.output_size

    def zero_state(self, batch_size, dtype):
        with tf.name_scope(type(self).__name__ + "ZeroState"):
            return self.cell.zero_state(batch_size, dtype)

    def build(self, inputs_shape):
        if hasattr(self.cell, "build") and not getattr(self.cell, "built", True):
            self.cell.build(inputs_shape)
        self.built = True


class ResidualWrapper(RNNCellWrapper):
    """Adds the step's input to the wrapped cell's output: `output = inputs + cell(inputs)`.

    Args:
      cell: the wrapped RNN cell; its output must have the input's shape.
      residual_fn: `fn(inputs, outputs) -> outputs` replacing the addition.

    Example:

    ```python
    cell = tf.compat.v1.nn.rnn_cell.ResidualWrapper(tf.compat.v1.nn.rnn_cell.GRUCell(16))
    outputs, state = tf.compat.v1.nn.dynamic_rnn(cell, inputs_of_depth_16, dtype=tf.float32)
    ```
    """

    def __init__(self, cell, residual_fn=None, **kwargs):
        super().__init__(cell, **kwargs)
        self._residual_fn = residual_fn

    def _call_wrapped_cell(self, inputs, state, cell_call_fn, **kwargs):
        outputs, new_state = cell_call_fn(inputs, state, **kwargs)
        if self._residual_fn is not None:
            return self._residual_fn(inputs, outputs), new_state

        def add(step_input, step_output):
            step_input.get_shape().assert_is_compatible_with(step_output.get_shape())
            return step_input + step_output

        tf.nest.assert_same_structure(inputs, outputs)
        return tf.nest.map_structure(add, inputs, outputs), new_state


class DeviceWrapper(RNNCellWrapper):
    """Runs the wrapped cell (and its zero state) on `device`.

    Args:
      cell: the wrapped RNN cell.
      device: a device string, e.g. "/cpu:0".

    Example:

    ```python
    cell = tf.compat.v1.nn.rnn_cell.DeviceWrapper(
        tf.compat.v1.nn.rnn_cell.LSTMCell(64), "/cpu:0")
    ```
    """

    def __init__(self, cell, device, **kwargs):
        super().__init__(cell, **kwargs)
        self._device = device

    def zero_state(self, batch_size, dtype):
        with tf.name_scope(type(self).__name__ + "ZeroState"), tf.device(self._device):
            return self.cell.zero_state(batch_size, dtype)

    def _call_wrapped_cell(self, inputs, state, cell_call_fn, **kwargs):
        with tf.device(self._device):
            return cell_call_fn(inputs, state, **kwargs)

    def get_config(self):
        return {**super().get_config(), "device": self._device}
