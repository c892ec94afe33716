"""Canary for the TensorFlow / TF-Slim internals that tf1kit.rnn and compat rely on
(to fold into tests/test_canary_internals.py). A failure here after an upgrade
names the internal that moved."""

import inspect

import tensorflow as tf


def test_tensorflow_rnn_internals():
    from tensorflow.python.ops import rnn, rnn_cell, rnn_cell_impl

    assert callable(rnn_cell_impl.assert_like_rnncell)
    assert list(inspect.signature(rnn_cell_impl._concat).parameters) == ["prefix", "suffix",
                                                                         "static"]
    assert rnn.rnn_cell_impl is rnn_cell_impl  # the rnn functions duck-type through it
    for name in ("LSTMCell", "MultiRNNCell", "LSTMStateTuple", "LayerRNNCell"):
        assert hasattr(rnn_cell_impl, name) and hasattr(rnn_cell, name)
    assert "rnn_cell" in vars(tf.compat.v1.nn)  # the lazy loader install() replaces


def test_tf_nest_and_tracking_internals():
    nest = tf.__internal__.nest
    assert nest.get_traverse_shallow_structure(lambda s: True, (1, 2)) == (True, True)
    assert nest.map_structure_up_to((1, 2), lambda a, b: a + b, (1, 2), (3, 4)) == (4, 6)
    assert hasattr(tf.Module(), "_track_trackable")


def test_tf_slim_internals():
    import tf_slim  # noqa: F401
    import sys

    slim_layers, slim_utils = sys.modules["tf_slim.layers.layers"], sys.modules["tf_slim.layers.utils"]
    assert "ops" in vars(slim_layers)  # its name_scope is what tf1kit swaps eagerly
    assert list(inspect.signature(slim_utils.collect_named_outputs).parameters) == [
        "collections", "alias", "outputs"]
