"""`MultiRNNCell`: cells stacked in layers, one step through all of them."""

from __future__ import annotations

import logging

import tensorflow as tf

from tf1kit.layers.base import Layer
from tf1kit.rnn.base import RNNCell

_log = logging.getLogger(__name__)


class MultiRNNCell(RNNCell):
    """TF1's `tf.nn.rnn_cell.MultiRNNCell`: each cell's output is the next one's input.

    Cell `i` runs in the variable scope `cell_<i>` inside this cell's scope,
    so a stack of LSTMs under `dynamic_rnn` has the variables
    `rnn/multi_rnn_cell/cell_0/lstm_cell/kernel`, ... The state is a tuple
    with one entry per cell (or, with `state_is_tuple=False`, the cells'
    states concatenated on axis 1).

    As in TF1, `trainable_weights` lists the weights of the cells that are
    layers; a wrapper such as `DropoutWrapper` reports none of its own.

    Args:
      cells: a list of RNN cells.
      state_is_tuple: states are tuples (True) or concatenated.

    Example:

    ```python
    cell = tf.compat.v1.nn.rnn_cell.MultiRNNCell(
        [tf.compat.v1.nn.rnn_cell.LSTMCell(64) for _ in range(2)])
    outputs, (state_0, state_1) = tf.compat.v1.nn.dynamic_rnn(
        cell, inputs, dtype=tf.float32)
    ```
    """

    def __init__(self, cells, state_is_tuple=True):
        super().__init__()
        if not cells:
            raise ValueError("Must specify at least one cell for MultiRNNCell.")
        if not tf.nest.is_nested(cells):
            raise TypeError(f"cells must be a list or tuple, but saw: {cells}.")
        if len({id(cell) for cell in cells}) < len(cells):
            _log.warning("At least two cells provided to MultiRNNCell are the same "
                         "object and will share weights.")
        self._cells = list(cells)
        for number, cell in enumerate(self._cells):
            self._track_cell(cell, f"cell-{number}")
        self._state_is_tuple = state_is_tuple
        if not state_is_tuple and any(tf.nest.is_nested(c.state_size) for c in self._cells):
            raise ValueError(
                "Some cells return tuples of states, but the flag state_is_tuple is not "
                f"set. State sizes are: {[c.state_size for c in self._cells]}")

    @property
    def state_size(self):
        if self._state_is_tuple:
            return tuple(cell.state_size for cell in self._cells)
        return sum(cell.state_size for cell in self._cells)

    @property
    def output_size(self):
        return self._cells[-1].output_size

    def zero_state(self, batch_size, dtype):
        with tf.name_scope(type(self).__name__ + "ZeroState"):
            if self._state_is_tuple:
                return tuple(cell.zero_state(batch_size, dtype) for cell in self._cells)
            return super().zero_state(batch_size, dtype)

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return [w for cell in self._cells if isinstance(cell, Layer)
                for w in cell.trainable_weights]

    @property
    def non_trainable_weights(self):
        weights = [w for cell in self._cells if isinstance(cell, Layer)
                   for w in cell.non_trainable_weights]
        if not self.trainable:
            weights = [w for cell in self._cells if isinstance(cell, Layer)
                       for w in cell.trainable_weights] + weights
        return weights

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    def call(self, inputs, state):
        position = 0
        outputs = inputs
        new_states = []
        for number, cell in enumerate(self._cells):
            with tf.compat.v1.variable_scope(f"cell_{number}"):
                if self._state_is_tuple:
                    if not tf.nest.is_nested(state):
                        raise ValueError(
                            f"Expected state to be a tuple of length {len(self.state_size)}, "
                            f"but received: {state}")
                    cell_state = state[number]
                else:
                    cell_state = tf.slice(state, [0, position], [-1, cell.state_size])
                    position += cell.state_size
                outputs, new_state = cell(outputs, cell_state)
                new_states.append(new_state)
        if self._state_is_tuple:
            return outputs, tuple(new_states)
        return outputs, tf.concat(new_states, 1)
