"""ResNet-style conv net with batch norm as TF1 code (get_variable + tf.nn).

42 variables: a stem, three residual blocks (the second downsamples and has a
projection shortcut) and a dense head. Batch norm keeps TF1's moving averages
as non-trainable variables updated by assignment in training mode, filed in
UPDATE_OPS as TF1 graph code must (an assign op nothing runs is never applied).
"""

import tensorflow as tf

from benchmarks.networks.batch_norm_settings import DECAY as BN_DECAY
from benchmarks.networks.batch_norm_settings import EPSILON as BN_EPSILON

v1 = tf.compat.v1


def conv(inputs, filters, stride, name, size=3):
    with v1.variable_scope(name):
        kernel = v1.get_variable(
            "kernel", [size, size, inputs.shape[-1], filters],
            initializer=v1.glorot_uniform_initializer())
        return tf.nn.conv2d(inputs, kernel, strides=stride, padding="SAME")


def batch_norm(inputs, training, name):
    with v1.variable_scope(name):
        depth = [inputs.shape[-1]]
        gamma = v1.get_variable("gamma", depth, initializer=v1.ones_initializer())
        beta = v1.get_variable("beta", depth, initializer=v1.zeros_initializer())
        moving_mean = v1.get_variable(
            "moving_mean", depth, initializer=v1.zeros_initializer(), trainable=False)
        moving_variance = v1.get_variable(
            "moving_variance", depth, initializer=v1.ones_initializer(), trainable=False)
        if training:
            mean, variance = tf.nn.moments(inputs, axes=[0, 1, 2])
            updates = [
                v1.assign(moving_mean, moving_mean * BN_DECAY + mean * (1 - BN_DECAY)),
                v1.assign(moving_variance,
                          moving_variance * BN_DECAY + variance * (1 - BN_DECAY)),
            ]
            if not tf.executing_eagerly():
                # A TF1 graph runs these only through UPDATE_OPS (the train op's
                # control dependencies); eagerly they ran already. No extra ops.
                for update in updates:
                    v1.add_to_collection(v1.GraphKeys.UPDATE_OPS, update)
        else:
            mean, variance = moving_mean, moving_variance
        return tf.nn.batch_normalization(inputs, mean, variance, beta, gamma, BN_EPSILON)


def conv_bn(inputs, filters, stride, training, name, relu=True):
    with v1.variable_scope(name):
        outputs = batch_norm(conv(inputs, filters, stride, "conv"), training, "bn")
        return tf.nn.relu(outputs) if relu else outputs


def residual_block(inputs, filters, stride, training, name, conv_bn=conv_bn):
    with v1.variable_scope(name):
        shortcut = inputs
        if stride != 1 or inputs.shape[-1] != filters:
            shortcut = conv_bn(inputs, filters, stride, training, "projection", relu=False)
        outputs = conv_bn(inputs, filters, stride, training, "a")
        outputs = conv_bn(outputs, filters, 1, training, "b", relu=False)
        return tf.nn.relu(outputs + shortcut)


def pooled_features(inputs, width, training, conv_bn=conv_bn):
    """Stem and three residual blocks, averaged over space (shared by both ResNets)."""
    outputs = conv_bn(inputs, width, 1, training, "stem")
    outputs = residual_block(outputs, width, 1, training, "block1", conv_bn)
    outputs = residual_block(outputs, 2 * width, 2, training, "block2", conv_bn)
    outputs = residual_block(outputs, 2 * width, 1, training, "block3", conv_bn)
    return tf.reduce_mean(outputs, axis=[1, 2])


class TF1ResNet(tf.keras.layers.Layer):
    def __init__(self, sizes, **kwargs):
        super().__init__(**kwargs)
        self.sizes = sizes

    @v1.keras.utils.track_tf1_style_variables
    def call(self, inputs, training=False):
        with v1.variable_scope("resnet"):
            pooled = pooled_features(inputs, self.sizes.channels, training)
            with v1.variable_scope("logits"):
                kernel = v1.get_variable(
                    "kernel", [pooled.shape[-1], self.sizes.classes],
                    initializer=v1.glorot_uniform_initializer())
                bias = v1.get_variable(
                    "bias", [self.sizes.classes], initializer=v1.zeros_initializer())
                return tf.matmul(pooled, kernel) + bias
