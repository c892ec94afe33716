"""`tf.compat.v1.nn.rnn_cell` on tf1kit.rnn.

TF 2.21 serves `tf.compat.v1.nn.rnn_cell` through a lazy loader that needs
Keras 2 and fails on Keras 3. TensorFlow's internal `rnn_cell_impl` module
(which code importing `tensorflow.python.ops.rnn_cell` reads) still holds
TF's private Keras-2 cells, whose variables a decorated Keras 3 layer
never sees. Both point at `tf1kit.rnn` after `install()`; the rnn functions
themselves (`dynamic_rnn`, ...) are TF's own and duck-type the cell.
"""

from __future__ import annotations

import tensorflow as tf

# The names TF1 exported from tf.nn.rnn_cell (LayerRNNCell lived only in rnn_cell_impl).
PUBLIC_CELLS = (
    "BasicLSTMCell", "BasicRNNCell", "DeviceWrapper", "DropoutWrapper", "GRUCell",
    "LSTMCell", "LSTMStateTuple", "MultiRNNCell", "RNNCell", "ResidualWrapper")


def rnn_cell_targets() -> list:
    """(owner, attribute, replacement) triples for `tf1kit.install()`."""
    from tensorflow.python.ops import rnn_cell, rnn_cell_impl

    from tf1kit import rnn

    targets = [(tf.compat.v1.nn, "rnn_cell", rnn)]
    for module in (rnn_cell_impl, rnn_cell):
        targets.extend((module, name, getattr(rnn, name))
                       for name in (*PUBLIC_CELLS, "LayerRNNCell"))
    return targets
