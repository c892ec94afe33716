"""The ResNet of tf1_resnet.py, written with `tf.compat.v1.layers`.

Same architecture and 42 variables, but the convolutions, batch norms and the
head come from `tf.compat.v1.layers` (tf1kit.layers under tf1kit, the tf_keras
legacy layers under the official shim), so the figure includes their cost.
"""

import tensorflow as tf

from benchmarks.networks.batch_norm_settings import DECAY, EPSILON
from benchmarks.networks.tf1_resnet import pooled_features

v1 = tf.compat.v1


def conv_bn(inputs, filters, stride, training, name, relu=True):
    with v1.variable_scope(name):
        outputs = v1.layers.conv2d(
            inputs, filters, 3, strides=stride, padding="same", use_bias=False, name="conv")
        outputs = v1.layers.batch_normalization(
            outputs, momentum=DECAY, epsilon=EPSILON, training=training, name="bn")
        return tf.nn.relu(outputs) if relu else outputs


class TF1ResNetLayers(tf.keras.layers.Layer):
    def __init__(self, sizes, **kwargs):
        super().__init__(**kwargs)
        self.sizes = sizes

    @v1.keras.utils.track_tf1_style_variables
    def call(self, inputs, training=False):
        with v1.variable_scope("resnet"):
            pooled = pooled_features(inputs, self.sizes.channels, training, conv_bn)
            return v1.layers.dense(pooled, self.sizes.classes, name="logits")
