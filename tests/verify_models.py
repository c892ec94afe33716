"""Models shared by the verify tests: a TF1 layer and its native Keras 3 rewrite,
with switches that plant the bugs `tf1kit.verify` must find.

The TF1 model uses `tf.compat.v1.layers` defaults, which a faithful native
rewrite must state where Keras 3 differs: batch norm momentum 0.99 and
epsilon 1e-3 (Keras 3's defaults happen to agree), the L2 regularizer, the
biases of both dense layers.
"""

import keras
import numpy as np
import tensorflow as tf

import tf1kit

v1 = tf.compat.v1
L2 = 0.01


class TF1Net(keras.layers.Layer):
    """dense(4 -> 6, no bias: batch norm follows) -> batch_normalization -> relu
    -> dense(6 -> 6, L2)."""

    @tf1kit.track_tf1_style_variables
    def call(self, x, training=False):
        with v1.variable_scope("net"):
            h = v1.layers.dense(x, 6, use_bias=False, name="hidden")
            h = v1.layers.batch_normalization(h, training=training, name="bn")
            return v1.layers.dense(tf.nn.relu(h), 6, name="out",
                                   kernel_regularizer=keras.regularizers.L2(L2))


class TransposedDense(keras.layers.Layer):
    """A dense layer keeping its kernel as (units, inputs), as some ports do."""

    def __init__(self, units, kernel_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.kernel_regularizer = kernel_regularizer

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=(self.units, input_shape[-1]),
                                      initializer="glorot_uniform",
                                      regularizer=self.kernel_regularizer)
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")

    def call(self, x):
        return tf.matmul(x, self.kernel, transpose_b=True) + self.bias


class NativeNet(keras.layers.Layer):
    """The native Keras 3 rewrite of TF1Net; the arguments plant bugs."""

    def __init__(self, momentum=0.99, epsilon=1e-3, regularize=True, use_bias=True,
                 transposed_kernel=False, **kwargs):
        super().__init__(**kwargs)
        regularizer = keras.regularizers.L2(L2) if regularize else None
        self.hidden = keras.layers.Dense(6, use_bias=False, name="hidden")
        self.bn = keras.layers.BatchNormalization(momentum=momentum, epsilon=epsilon, name="bn")
        self.out = (TransposedDense(6, kernel_regularizer=regularizer, name="out")
                    if transposed_kernel else
                    keras.layers.Dense(6, use_bias=use_bias, kernel_regularizer=regularizer,
                                       name="out"))

    def call(self, x, training=False):
        return self.out(tf.nn.relu(self.bn(self.hidden(x), training=training)))


class NativeModel(keras.Model):
    """NativeNet as a keras.Model, so it can be compiled with its optimizer."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.net = NativeNet(name="net")

    def call(self, x, training=False):
        return self.net(x, training=training)


class NativeModule(tf.Module):
    """The rewrite as a tf.Module holding Keras layers; `forget_training` plants
    the bug of calling batch norm without `training`. Keras 3 passes `training`
    on to nested layers through its call context, so inside a Keras layer the
    omission is harmless; in a tf.Module (or plain function) nothing passes it,
    and batch norm runs in inference mode while training."""

    def __init__(self, forget_training=False, name=None):
        super().__init__(name=name)
        self.forget_training = forget_training
        self.hidden = keras.layers.Dense(6, use_bias=False, name="hidden")
        self.bn = keras.layers.BatchNormalization(name="bn")
        self.out = keras.layers.Dense(6, kernel_regularizer=keras.regularizers.L2(L2), name="out")

    def __call__(self, x, training=False):
        h = self.hidden(x)
        h = self.bn(h) if self.forget_training else self.bn(h, training=training)
        return self.out(tf.nn.relu(h))

    @property
    def losses(self):
        return self.out.losses


def batch(rows=8, seed=0):
    """Inputs with one near-zero feature: its (unregularized) hidden weights get
    tiny gradients, the regime where Adam's epsilon decides the size of a step."""
    x = np.random.RandomState(seed).normal(size=(rows, 4)).astype("float32")
    x[:, 3] *= 1e-6
    return x
