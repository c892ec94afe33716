"""`tf.compat.v1.nn.rnn_cell` for TensorFlow 2 + Keras 3.

The TF1 recurrent cells, on `get_variable` like `tf1kit.layers`: TF1's
variable names (`rnn/multi_rnn_cell/cell_0/lstm_cell/kernel`), initial
values and options, for `tf.compat.v1.nn.dynamic_rnn`, `static_rnn`,
`bidirectional_dynamic_rnn` and `raw_rnn`. `tf1kit.install()` makes
`tf.compat.v1.nn.rnn_cell` resolve to this module.
"""

from tf1kit.rnn.base import LayerRNNCell, RNNCell
from tf1kit.rnn.basic_lstm import BasicLSTMCell
from tf1kit.rnn.basic_rnn import BasicRNNCell
from tf1kit.rnn.dropout_wrapper import DropoutWrapper
from tf1kit.rnn.gru import GRUCell
from tf1kit.rnn.lstm import LSTMCell
from tf1kit.rnn.multi_cell import MultiRNNCell
from tf1kit.rnn.state_tuple import LSTMStateTuple
from tf1kit.rnn.wrapper import DeviceWrapper, ResidualWrapper

__all__ = [
    "BasicLSTMCell", "BasicRNNCell", "DeviceWrapper", "DropoutWrapper", "GRUCell",
    "LSTMCell", "LSTMStateTuple", "LayerRNNCell", "MultiRNNCell", "RNNCell",
    "ResidualWrapper",
]
