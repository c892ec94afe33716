"""Object-based checkpoints survive swapping TF1 layer objects for Keras 3 layers.

The guide's checkpoint-compatible migration saves a model whose compat layers
are attributes, then swaps them for native Keras layers and restores by
object path. Keras 3's Dense and Conv save their kernel as `_kernel`, so the
TF1 layers track theirs under both names.
"""

import numpy as np
import tensorflow as tf
import keras

import tf1kit

v1 = tf.compat.v1


class ObjectStyle(keras.layers.Layer):
    def __init__(self, conv, dense, **kwargs):
        super().__init__(**kwargs)
        self.conv_1 = conv
        self.dense_1 = dense

    @tf1kit.track_tf1_style_variables
    def call(self, inputs):
        with v1.variable_scope("model"):
            return self.dense_1(tf.reshape(self.conv_1(inputs), [tf.shape(inputs)[0], -1]))


def test_tf1_layer_objects_restore_into_keras3_layers(tmp_path):
    x = tf.random.stateless_normal([2, 5, 5, 3], seed=[1, 2])
    compat = ObjectStyle(tf1kit.layers.Conv2D(4, 3), tf1kit.layers.Dense(2))
    expected = compat(x).numpy()
    path = tf.train.Checkpoint(model=compat).save(str(tmp_path / "ckpt"))

    native = ObjectStyle(keras.layers.Conv2D(4, 3), keras.layers.Dense(2))
    native(x)
    status = tf.train.Checkpoint(model=native).restore(path)
    status.assert_existing_objects_matched()
    np.testing.assert_allclose(native(x).numpy(), expected, rtol=1e-6)
    np.testing.assert_array_equal(native.conv_1.kernel.numpy(), compat.conv_1.kernel.numpy())
