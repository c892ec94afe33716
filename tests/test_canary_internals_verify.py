"""Canary: the TensorFlow, Keras and tf-keras internals `tf1kit.verify` relies on.

Each check names the file that relies on it. When one fails after an upgrade,
that file is what to fix; nothing else in tf1kit reads these.
"""

import importlib
import inspect

import keras
import tensorflow as tf


def test_dropout_funnel_in_nn_ops():
    """verify/dropout.py: every TF dropout (tf.nn.dropout, Keras 3's stateless
    dropout) goes through nn_ops._dropout(x, rate, noise_shape, ...)."""
    from tensorflow.python.ops import nn_ops

    parameters = list(inspect.signature(nn_ops._dropout).parameters)
    assert parameters[:3] == ["x", "rate", "noise_shape"]
    from tf1kit.verify.dropout import dropout_disabled

    x = tf.ones([4, 5])
    with dropout_disabled([]) as rates:
        plain = tf.nn.dropout(x, rate=0.5)
        keras_output = keras.layers.Dropout(0.25)(x, training=True)
    assert rates == [0.5, 0.25]
    assert bool(tf.reduce_all(plain == x)) and bool(tf.reduce_all(keras_output == x))


def test_keras_layer_names_come_from_object_name_uids():
    """verify/instances.py: Keras' automatic names count in global_state's
    "object_name_uids"; a world swaps in its own counter."""
    from tf1kit.verify.instances import own_keras_names

    def count(name):
        return 0 if name == "dense" else int(name.rsplit("_", 1)[1])

    before = count(keras.layers.Dense(1).name)
    with own_keras_names():
        assert keras.layers.Dense(1).name == "dense"
        assert keras.layers.Dense(1).name == "dense_1"
    assert count(keras.layers.Dense(1).name) == before + 1  # the process' counter resumed


def test_tf_keras_legacy_layers_and_tf2_switch():
    """verify/tf1_layers.py: tf-keras keeps TF's TF1 layers, and picks TF1
    initializers when tf.__internal__.tf2.enabled() (through tf.compat.v2) is False."""
    importlib.import_module("tf_keras.api._v1.keras.__internal__.legacy.layers")
    importlib.import_module("tf_keras.api._v1.keras.__internal__.legacy.rnn_cell")
    for name in ("convolutional", "core", "normalization", "pooling"):
        importlib.import_module(f"tf_keras.src.legacy_tf_layers.{name}")
    from tf1kit.verify.tf1_layers import original_tf1_layers
    from tf_keras.src import initializers

    with original_tf1_layers():
        assert tf.compat.v1.layers.dense.__module__ == "tf_keras.src.legacy_tf_layers.core"
        tf1_default = initializers.get("glorot_uniform")
    assert isinstance(tf1_default, tf.compat.v1.glorot_uniform_initializer)
    assert not isinstance(initializers.get("glorot_uniform"),
                          tf.compat.v1.glorot_uniform_initializer)


def test_tf1_optimizer_hyperparameter_attributes():
    """verify/optimizers.py reads TF1 optimizers' settings from these attributes."""
    adam = tf.compat.v1.train.AdamOptimizer(0.5, beta1=0.8, beta2=0.9, epsilon=1e-3)
    assert (adam._lr, adam._beta1, adam._beta2, adam._epsilon) == (0.5, 0.8, 0.9, 1e-3)
    assert tf.compat.v1.train.GradientDescentOptimizer(0.25)._learning_rate == 0.25
    momentum = tf.compat.v1.train.MomentumOptimizer(0.1, 0.7, use_nesterov=True)
    assert (momentum._momentum, momentum._use_nesterov) == (0.7, True)


def test_deprecation_printing_switch():
    """verify/tf1_world.py silences TF1 layers' deprecation messages with it."""
    from tensorflow.python.util import deprecation

    assert isinstance(deprecation._PRINT_DEPRECATION_WARNINGS, bool)


def test_global_seed_getter():
    """verify/api.py puts TensorFlow's global seed back after the determinism tool set it."""
    from tensorflow.python.eager import context

    tf.random.set_seed(7)
    assert context.global_seed() == 7
    tf.random.set_seed(None)
    assert context.global_seed() is None
