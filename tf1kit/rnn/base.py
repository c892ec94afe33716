"""`RNNCell` and `LayerRNNCell`: the bases of the TF1 recurrent cells.

A TF1 cell is a TF1 layer (`tf.compat.v1.layers.Layer`) called as
`output, new_state = cell(inputs, state)` once per time step by
`dynamic_rnn`, `static_rnn`, `raw_rnn` or `bidirectional_dynamic_rnn`. Those
functions only duck-type the cell (`state_size`, `output_size`,
`zero_state`/`get_initial_state`, callable), so these classes need no
registration with TensorFlow.

Scoping follows TF1: a cell takes its variable scope on the first call
(`rnn/lstm_cell`, `rnn/multi_rnn_cell/cell_0/lstm_cell`) and reuses it on
every later step. A plain `RNNCell` may create variables with
`get_variable` inside `call`; a custom getter records them in the cell's
weights. `LayerRNNCell`s create theirs in `build` with `add_variable`.

As in TF1, attributes are not tracked automatically: a cell's checkpoint
dependencies are its variables under their `add_variable` names (`kernel`,
`projection/kernel`) and the cells it wraps (`cell`, `cell-0`, ...).
"""

from __future__ import annotations

import tensorflow as tf
from tensorflow.python.ops import rnn_cell_impl as tf_rnn_cell_impl

from tf1kit.layers.base import Layer


def assert_like_rnncell(cell_name, cell):
    """TF's duck-typing check (what the rnn functions run on every cell)."""
    tf_rnn_cell_impl.assert_like_rnncell(cell_name, cell)


def zero_state_tensors(state_size, batch_size, dtype):
    """Zeros of shape `[batch_size] + s` for each `s` in `state_size`."""
    concat = tf_rnn_cell_impl._concat

    def zeros(size):
        state = tf.zeros(concat(batch_size, size), dtype=dtype)
        if not tf.executing_eagerly():
            state.set_shape(concat(batch_size, size, static=True))
        return state

    return tf.nest.map_structure(zeros, state_size)


class RNNCell(Layer):
    """Abstract TF1 RNN cell: `(output, next_state) = cell(inputs, state)`.

    Subclasses define `state_size`, `output_size` and `call(inputs, state)`,
    and may create variables in `build(inputs_shape)` with `add_variable` or
    in `call` with `tf.compat.v1.get_variable`.

    Args:
      trainable: whether the cell's variables are trainable.
      name: the cell's name; it is also its variable scope's default name
        (`lstm_cell` for `LSTMCell`).
      dtype: the dtype of the cell's variables (default: the first input's).

    Example:

    ```python
    class MinimalRNNCell(tf.compat.v1.nn.rnn_cell.RNNCell):
        def __init__(self, units):
            super().__init__()
            self.units = units

        @property
        def state_size(self):
            return self.units

        @property
        def output_size(self):
            return self.units

        def call(self, inputs, state):
            w = tf.compat.v1.get_variable("w", [inputs.shape[-1] + self.units, self.units])
            output = tf.tanh(tf.matmul(tf.concat([inputs, state], 1), w))
            return output, output

    outputs, state = tf.compat.v1.nn.dynamic_rnn(
        MinimalRNNCell(8), inputs, dtype=tf.float32)   # variable rnn/minimal_rnn_cell/w
    ```
    """

    def __init__(self, trainable=True, name=None, dtype=None, **kwargs):
        super().__init__(trainable=trainable, name=name, dtype=dtype, **kwargs)
        self._is_tf_rnn_cell = True
        self._outer_scope = None
        self._last_zero_state = None

    def __setattr__(self, name, value):
        # TF1's layers kept attributes out of the dependency graph; a cell's
        # checkpoint dependencies are named explicitly (see the module doc).
        object.__setattr__(self, name, value)

    def __call__(self, inputs, state, scope=None):
        """Runs one step: returns `(output, new_state)`.

        scope: a variable scope (name or object) to build the cell in; by
        default the scope current at the first call, then that one again.
        """
        if scope is not None:
            with tf.compat.v1.variable_scope(
                    scope, custom_getter=self._rnn_get_variable) as captured:
                return super().__call__(inputs, state, scope=captured)
        if self._outer_scope is None:
            self._outer_scope = tf.compat.v1.get_variable_scope()
        with tf.compat.v1.variable_scope(
                self._outer_scope, custom_getter=self._rnn_get_variable,
                auxiliary_name_scope=False):
            return super().__call__(inputs, state)

    def _rnn_get_variable(self, getter, *args, **kwargs):
        """Custom getter: variables a cell makes in `call` become its weights."""
        variable = getter(*args, **kwargs)
        if tf.compat.v1.executing_eagerly_outside_functions():
            trainable = variable.trainable
        else:
            # A TF1 graph: trainable means in the collection (a partitioned
            # variable by its first part); identity, not ==, as in TF1.
            parts = getattr(variable, "_get_variable_list", None)
            first = parts()[0] if parts is not None else variable
            trainable = any(first is v for v in tf.compat.v1.trainable_variables())
        known = self._trainable_weights if trainable else self._non_trainable_weights
        if not any(variable is v for v in known):
            known.append(variable)
        return variable

    def add_weight(self, name, shape, *args, **kwargs):
        variable = super().add_weight(name, shape, *args, **kwargs)
        # TF1 named a layer's checkpoint dependency after the variable.
        self._track_trackable(variable, name=name, overwrite=True)
        return variable

    add_variable = add_weight

    def _track_cell(self, cell, name):
        if isinstance(cell, tf.__internal__.tracking.Trackable):
            self._track_trackable(cell, name=name, overwrite=True)

    @property
    def state_size(self):
        """int, TensorShape or a (nested) tuple of them: the state's size(s)."""
        raise NotImplementedError(f"{type(self).__name__} must define state_size")

    @property
    def output_size(self):
        """int or TensorShape: the size of one step's output."""
        raise NotImplementedError(f"{type(self).__name__} must define output_size")

    def build(self, inputs_shape):
        self.built = True

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        """Zero state for `inputs` (batch size and dtype read from it) or for
        `batch_size` and `dtype`."""
        if inputs is not None:
            inputs = tf.convert_to_tensor(inputs, name="inputs")
            if batch_size is not None:
                static = (tf.get_static_value(batch_size, partial=True)
                          if tf.is_tensor(batch_size) else batch_size)
                if inputs.shape[0] != static:
                    raise ValueError(
                        f"{self.name}.get_initial_state: batch size from input tensor is "
                        f"different from the input param. Input tensor batch: "
                        f"{inputs.shape[0]}, batch_size: {batch_size}")
            if dtype is not None and inputs.dtype != tf.as_dtype(dtype):
                raise ValueError(
                    f"{self.name}.get_initial_state: dtype from input tensor is different "
                    f"from the input param. Input tensor dtype: {inputs.dtype}, "
                    f"dtype: {dtype}")
            batch_size = inputs.shape[0] or tf.shape(inputs)[0]
            dtype = inputs.dtype
        if batch_size is None or dtype is None:
            raise ValueError(
                f"{self.name}.get_initial_state: batch_size and dtype cannot be None "
                f"while constructing initial state: batch_size={batch_size}, "
                f"dtype={dtype}")
        return self.zero_state(batch_size, dtype)

    def zero_state(self, batch_size, dtype):
        """Zero-filled state: `[batch_size, s]` for each size `s` in `state_size`."""
        state_size = self.state_size
        eager = tf.executing_eagerly() and isinstance(batch_size, int)
        if eager and self._last_zero_state is not None:
            # Eager steps ask for the same zeros again and again.
            last_size, last_batch, last_dtype, last_state = self._last_zero_state
            if (last_batch, last_dtype, last_size) == (batch_size, dtype, state_size):
                return last_state
        with tf.name_scope(type(self).__name__ + "ZeroState"):
            state = zero_state_tensors(state_size, batch_size, dtype)
        if eager:
            self._last_zero_state = (state_size, batch_size, dtype, state)
        return state

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}


class LayerRNNCell(RNNCell):
    """An `RNNCell` that is a proper TF1 layer: variables come from `build`.

    Its scope is the layer's own (`<current scope>/<name>`), with no custom
    getter; all of TF's own cells but `MultiRNNCell` are `LayerRNNCell`s.
    """

    def __call__(self, inputs, state, scope=None, *args, **kwargs):
        return Layer.__call__(self, inputs, state, *args, scope=scope, **kwargs)


def check_supported_dtype(dtype, cell_name):
    """TF1 cells run on floating point (and complex) inputs only."""
    if dtype is None:
        return
    dtype = tf.as_dtype(dtype)
    if not (dtype.is_floating or dtype.is_complex):
        raise ValueError(
            f"{cell_name}: RNN cell only supports floating point inputs, but saw "
            f"dtype: {dtype.name}")


def input_depth(inputs_shape, cell) -> int:
    """The input's last dimension, which a cell's kernel needs at build time."""
    inputs_shape = tf.TensorShape(inputs_shape)
    depth = inputs_shape[-1] if inputs_shape.rank else None
    if depth is None:
        raise ValueError(
            f"{type(cell).__name__} {cell.name!r}: expected inputs.shape[-1] to be known, "
            f"saw shape: {inputs_shape}")
    check_supported_dtype(cell.dtype, cell.name)
    return int(depth)


def split_lstm_state(cell, state):
    """`(c, h)` of a tuple state; a single tensor would silently unpack along
    the batch axis, so it is refused with the cell's name."""
    if not tf.nest.is_nested(state) or len(state) != 2:
        raise ValueError(
            f"{type(cell).__name__} {cell.name!r} was built with state_is_tuple=True and "
            f"expects an LSTMStateTuple (c, h) as state; got {state!r:.120}. Pass "
            "cell.zero_state(batch_size, dtype), or state_is_tuple=False for a "
            "concatenated [c, h] tensor.")
    return state


def activation_name(activation):
    """For get_config: tanh -> "tanh"."""
    return getattr(activation, "__name__", activation)
