"""A TF-Slim net with arg_scope, as TF1 code.

Uses slim.conv2d / max_pool2d / flatten / fully_connected, which run on
TensorFlow 2.21 in both worlds. slim.batch_norm does not (it imports
`tf_keras.legacy_tf_layers` and `ops.Tensor`), so the net has no batch norm.
"""

import tensorflow as tf
import tf_slim as slim

v1 = tf.compat.v1


class TF1SlimNet(tf.keras.layers.Layer):
    def __init__(self, sizes, **kwargs):
        super().__init__(**kwargs)
        self.sizes = sizes

    @v1.keras.utils.track_tf1_style_variables
    def call(self, inputs, training=False):
        width = self.sizes.channels
        with slim.arg_scope(
                [slim.conv2d, slim.fully_connected],
                activation_fn=tf.nn.relu,
                weights_initializer=v1.glorot_uniform_initializer()):
            with slim.arg_scope([slim.conv2d], padding="SAME"):
                net = slim.conv2d(inputs, width, [3, 3], scope="conv1")
                net = slim.max_pool2d(net, [2, 2], scope="pool1")
                net = slim.conv2d(net, 2 * width, [3, 3], scope="conv2")
                net = slim.max_pool2d(net, [2, 2], scope="pool2")
                net = slim.conv2d(net, 4 * width, [3, 3], scope="conv3")
            net = slim.flatten(net, scope="flatten")
            net = slim.fully_connected(net, 8 * width, scope="fc1")
            return slim.fully_connected(
                net, self.sizes.classes, activation_fn=None, scope="logits")
