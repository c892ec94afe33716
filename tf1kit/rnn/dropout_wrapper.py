"""`DropoutWrapper`: dropout on a cell's inputs, outputs and state."""

from __future__ import annotations

import hashlib
import numbers

import tensorflow as tf

from tf1kit.rnn.state_tuple import LSTMStateTuple
from tf1kit.rnn.wrapper import RNNCellWrapper


class DropoutWrapper(RNNCellWrapper):
    """TF1's `tf.nn.rnn_cell.DropoutWrapper`.

    Each keep probability below 1 (or given as a tensor) drops that part of
    every step. Plain dropout draws a new mask per step, through
    `tf.nn.dropout` (seeds from `get_seed`, as in TF1). With
    `variational_recurrent=True` (Gal & Ghahramani, 2016) one noise tensor per
    part is drawn when the wrapper is built and reused on every step and for
    every example (shape `[1, size]`), so the same units are dropped
    throughout. By default state dropout skips the memory `c` of an
    `LSTMStateTuple` and any TensorArray.

    Args:
      cell: the wrapped RNN cell.
      input_keep_prob, output_keep_prob, state_keep_prob: keep probabilities
        (floats in [0, 1] or scalar tensors).
      variational_recurrent: reuse one mask across steps (needs `dtype`, and
        `input_size` when inputs are dropped).
      input_size: the (nested) depth of the inputs, for variational input dropout.
      dtype: dtype of the variational noise.
      seed: seed from which each part's op seed is derived.
      dropout_state_filter_visitor: `fn(substate)` returning True/False (or a
        structure of them, one level deep) for the parts of the state to drop.

    Example:

    ```python
    cells = [tf.compat.v1.nn.rnn_cell.DropoutWrapper(
                 tf.compat.v1.nn.rnn_cell.LSTMCell(200), output_keep_prob=keep_prob)
             for _ in range(2)]
    cell = tf.compat.v1.nn.rnn_cell.MultiRNNCell(cells)
    ```
    """

    def __init__(self, cell, input_keep_prob=1.0, output_keep_prob=1.0, state_keep_prob=1.0,
                 variational_recurrent=False, input_size=None, dtype=None, seed=None,
                 dropout_state_filter_visitor=None, **kwargs):
        super().__init__(cell, dtype=dtype, **kwargs)
        if dropout_state_filter_visitor is not None and not callable(
                dropout_state_filter_visitor):
            raise TypeError(
                f"dropout_state_filter_visitor must be callable. Received: "
                f"{dropout_state_filter_visitor}")
        self._dropout_state_filter = (dropout_state_filter_visitor
                                      or default_dropout_state_filter_visitor)
        for value, part in ((input_keep_prob, "input"), (state_keep_prob, "state"),
                            (output_keep_prob, "output")):
            setattr(self, f"_{part}_keep_prob", _keep_probability(value, f"{part}_keep_prob"))
        self._variational_recurrent = variational_recurrent
        self._input_size = input_size
        self._seed = seed
        self._recurrent_input_noise = None
        self._recurrent_state_noise = None
        self._recurrent_output_noise = None
        if variational_recurrent:
            if dtype is None:
                raise ValueError("When variational_recurrent=True, dtype must be provided")

            def noise(part, sizes):
                return _enumerated_map(sizes, lambda i, size: tf.random.uniform(
                    tf.concat([[1], tf.TensorShape(size).as_list()], 0),
                    seed=self._gen_seed(part, i), dtype=dtype), sizes)

            if _should_drop(self._input_keep_prob):
                if input_size is None:
                    raise ValueError(
                        "When variational_recurrent=True and input_keep_prob < 1.0 or is "
                        "unknown, input_size must be provided")
                self._recurrent_input_noise = noise("input", input_size)
            self._recurrent_state_noise = noise("state", cell.state_size)
            self._recurrent_output_noise = noise("output", cell.output_size)

    def _gen_seed(self, salt_prefix, index):
        """The op seed of part `salt_prefix`, element `index`: TF1's hash of the seed."""
        if self._seed is None:
            return None
        salted = f"{self._seed}{salt_prefix}_{index}".encode("utf-8")
        return int(hashlib.md5(salted).hexdigest()[:8], 16) & 0x7FFFFFFF

    def _dropout(self, values, salt_prefix, recurrent_noise, keep_prob, filtered=None):
        filtered = values if filtered is None else filtered
        if not self._variational_recurrent:
            def drop(i, do_dropout, value):
                if isinstance(do_dropout, bool) and not do_dropout:
                    return value
                return tf.nn.dropout(value, rate=1.0 - keep_prob,
                                     seed=self._gen_seed(salt_prefix, i))

            return _enumerated_map(filtered, drop, filtered, values)

        def drop_variational(i, do_dropout, value, noise):
            if isinstance(do_dropout, bool) and not do_dropout:
                return value
            # floor(keep + U[0, 1)) is 1 with probability keep.
            kept = tf.floor(keep_prob + noise)
            dropped = tf.divide(value, keep_prob) * kept
            dropped.set_shape(value.get_shape())
            return dropped

        return _enumerated_map(filtered, drop_variational, filtered, values, recurrent_noise)

    def _call_wrapped_cell(self, inputs, state, cell_call_fn, **kwargs):
        if _should_drop(self._input_keep_prob):
            inputs = self._dropout(inputs, "input", self._recurrent_input_noise,
                                   self._input_keep_prob)
        output, new_state = cell_call_fn(inputs, state, **kwargs)
        if _should_drop(self._state_keep_prob):
            filtered = tf.__internal__.nest.get_traverse_shallow_structure(
                self._dropout_state_filter, new_state)
            new_state = self._dropout(new_state, "state", self._recurrent_state_noise,
                                      self._state_keep_prob, filtered)
        if _should_drop(self._output_keep_prob):
            output = self._dropout(output, "output", self._recurrent_output_noise,
                                   self._output_keep_prob)
        return output, new_state

    def get_config(self):
        config = {"input_keep_prob": self._input_keep_prob,
                  "output_keep_prob": self._output_keep_prob,
                  "state_keep_prob": self._state_keep_prob,
                  "variational_recurrent": self._variational_recurrent,
                  "input_size": self._input_size, "seed": self._seed}
        return {**super().get_config(), **config}


def default_dropout_state_filter_visitor(substate):
    """Drop everything but an LSTM's memory `c` and TensorArrays."""
    if isinstance(substate, LSTMStateTuple):
        return LSTMStateTuple(c=False, h=True)
    if isinstance(substate, tf.TensorArray):
        return False
    return True


def _keep_probability(value, argument):
    """A constant keep probability becomes a float (checked); others stay tensors."""
    tensor = tf.convert_to_tensor(value)
    constant = tf.get_static_value(tensor)
    if constant is None:
        return tensor
    if not 0 <= constant <= 1:
        raise ValueError(f"Parameter {argument} must be between 0 and 1. Received {constant}")
    return float(constant)


def _should_drop(keep_prob):
    return not isinstance(keep_prob, numbers.Real) or keep_prob < 1


def _enumerated_map(shallow_structure, fn, *structures):
    """map_structure_up_to that also passes each leaf's running index."""
    counter = iter(range(1 << 62))
    return tf.__internal__.nest.map_structure_up_to(
        shallow_structure, lambda *leaves: fn(next(counter), *leaves), *structures)
