"""`LSTMCell`: the LSTM with optional peepholes, projection and clipping."""

from __future__ import annotations

import logging

import tensorflow as tf

from tf1kit.layers.arguments import get_activation, get_initializer
from tf1kit.layers.base import op_input
from tf1kit.layers.input_spec import InputSpec
from tf1kit.rnn.base import (
    LayerRNNCell, activation_name, check_supported_dtype, input_depth, split_lstm_state)
from tf1kit.rnn.state_tuple import LSTMStateTuple

_log = logging.getLogger(__name__)


class LSTMCell(LayerRNNCell):
    """TF1's `tf.nn.rnn_cell.LSTMCell` (Hochreiter & Schmidhuber 1997; peepholes
    after Gers & Schmidhuber 2000; projection after Sak et al. 2014).

    Variables, in TF1's creation order (initial values drawn in that order):
    `kernel` `[input_depth + h_depth, 4 * num_units]` (gates i, j, f, o),
    `bias` `[4 * num_units]` (zeros), with peepholes `w_f_diag`, `w_i_diag`,
    `w_o_diag` `[num_units]`, and with `num_proj` `projection/kernel`
    `[num_units, num_proj]`; `h_depth` is `num_proj` or `num_units`. One step:
    `c' = sigmoid(f + forget_bias [+ w_f * c]) * c + sigmoid(i [+ w_i * c]) * act(j)`,
    clipped to `cell_clip`; `m = sigmoid(o [+ w_o * c']) * act(c')`, then
    projected and clipped to `proj_clip`. The output is `m`; the state `(c', m)`.

    Args:
      num_units: number of units in the cell.
      use_peepholes: add diagonal peephole connections.
      cell_clip: clip the cell state to `[-cell_clip, cell_clip]` (None: no clip).
      initializer: initializer of the kernels and peepholes (get_variable's
        default, glorot uniform, if None).
      num_proj: project the output to this size (None: no projection).
      proj_clip: clip the projected output to `[-proj_clip, proj_clip]`.
      num_unit_shards, num_proj_shards: TF1's deprecated sharding; they ask
        for partitioned variables, which TF2 cannot make inside a decorated
        call (a ValueError names the variable).
      forget_bias: added to the forget gate's pre-activation (1.0).
      state_is_tuple: states are `LSTMStateTuple(c, m)` (True) or `[c, m]`
        concatenated on axis 1.
      activation: nonlinearity; tanh by default.
      reuse: reuse the variables of an existing scope.
      name: name and default variable scope (`lstm_cell`).
      dtype: dtype of the variables (default: the first input's).

    Example:

    ```python
    cell = tf.compat.v1.nn.rnn_cell.LSTMCell(64, use_peepholes=True, num_proj=32)
    outputs, state = tf.compat.v1.nn.dynamic_rnn(cell, inputs, dtype=tf.float32)
    # variables rnn/lstm_cell/{kernel,bias,w_f_diag,w_i_diag,w_o_diag,projection/kernel}
    ```
    """

    def __init__(self, num_units, use_peepholes=False, cell_clip=None, initializer=None,
                 num_proj=None, proj_clip=None, num_unit_shards=None, num_proj_shards=None,
                 forget_bias=1.0, state_is_tuple=True, activation=None, reuse=None,
                 name=None, dtype=None, **kwargs):
        super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
        check_supported_dtype(self.dtype, self.name)
        if not state_is_tuple:
            _log.warning("%s: Using a concatenated state is slower and will soon be "
                         "deprecated. Use state_is_tuple=True.", self.name)
        self.input_spec = InputSpec(ndim=2)
        self._num_units = num_units
        self._use_peepholes = use_peepholes
        self._cell_clip = cell_clip
        self._initializer = get_initializer(initializer)
        self._num_proj = num_proj
        self._proj_clip = proj_clip
        self._num_unit_shards = num_unit_shards
        self._num_proj_shards = num_proj_shards
        self._forget_bias = forget_bias
        self._state_is_tuple = state_is_tuple
        self._activation = get_activation(activation) or tf.tanh

    @property
    def state_size(self):
        output = self._num_proj or self._num_units
        if self._state_is_tuple:
            return LSTMStateTuple(self._num_units, output)
        return self._num_units + output

    @property
    def output_size(self):
        return self._num_proj or self._num_units

    def build(self, inputs_shape):
        depth = input_depth(inputs_shape, self) + (self._num_proj or self._num_units)
        self._kernel = self.add_variable(
            "kernel", shape=[depth, 4 * self._num_units], initializer=self._initializer,
            partitioner=_shards(self._num_unit_shards))
        self._bias = self.add_variable(
            "bias", shape=[4 * self._num_units], initializer=tf.compat.v1.zeros_initializer())
        if self._use_peepholes:
            self._w_f_diag, self._w_i_diag, self._w_o_diag = (
                self.add_variable(name, shape=[self._num_units], initializer=self._initializer)
                for name in ("w_f_diag", "w_i_diag", "w_o_diag"))
        if self._num_proj is not None:
            self._proj_kernel = self.add_variable(
                "projection/kernel", shape=[self._num_units, self._num_proj],
                initializer=self._initializer, partitioner=_shards(self._num_proj_shards))
        self.built = True

    def call(self, inputs, state):
        sigmoid = tf.sigmoid
        if self._state_is_tuple:
            c_prev, m_prev = split_lstm_state(self, state)
        else:
            c_prev = tf.slice(state, [0, 0], [-1, self._num_units])
            m_prev = tf.slice(state, [0, self._num_units], [-1, self.output_size])
        if inputs.shape.with_rank(2)[1] is None:
            raise ValueError(
                f"LSTMCell {self.name!r}: could not infer input size from "
                f"inputs.get_shape()[-1] (shape {inputs.shape})")
        gates = tf.nn.bias_add(
            tf.matmul(tf.concat([inputs, m_prev], 1), op_input(self._kernel)), op_input(self._bias))
        i, j, f, o = tf.split(gates, num_or_size_splits=4, axis=1)
        if self._use_peepholes:
            c = (sigmoid(f + self._forget_bias + self._w_f_diag * c_prev) * c_prev
                 + sigmoid(i + self._w_i_diag * c_prev) * self._activation(j))
        else:
            c = sigmoid(f + self._forget_bias) * c_prev + sigmoid(i) * self._activation(j)
        if self._cell_clip is not None:
            c = tf.clip_by_value(c, -self._cell_clip, self._cell_clip)
        if self._use_peepholes:
            m = sigmoid(o + self._w_o_diag * c) * self._activation(c)
        else:
            m = sigmoid(o) * self._activation(c)
        if self._num_proj is not None:
            m = tf.matmul(m, op_input(self._proj_kernel))
            if self._proj_clip is not None:
                m = tf.clip_by_value(m, -self._proj_clip, self._proj_clip)
        new_state = LSTMStateTuple(c, m) if self._state_is_tuple else tf.concat([c, m], 1)
        return m, new_state

    def get_config(self):
        return {**super().get_config(), "num_units": self._num_units,
                "use_peepholes": self._use_peepholes, "cell_clip": self._cell_clip,
                "num_proj": self._num_proj, "proj_clip": self._proj_clip,
                "num_unit_shards": self._num_unit_shards,
                "num_proj_shards": self._num_proj_shards,
                "forget_bias": self._forget_bias, "state_is_tuple": self._state_is_tuple,
                "activation": activation_name(self._activation)}


def _shards(count):
    if count is None:
        return None
    return tf.compat.v1.fixed_size_partitioner(count)
