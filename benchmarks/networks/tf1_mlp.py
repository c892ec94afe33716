"""Small MLP as TF1 code: three dense layers from get_variable and tf.nn."""

import tensorflow as tf

v1 = tf.compat.v1


def dense(inputs, units, name, activation=None):
    with v1.variable_scope(name):
        kernel = v1.get_variable(
            "kernel", [inputs.shape[-1], units],
            initializer=v1.glorot_uniform_initializer())
        bias = v1.get_variable("bias", [units], initializer=v1.zeros_initializer())
        outputs = tf.matmul(inputs, kernel) + bias
        return activation(outputs) if activation else outputs


class TF1MLP(tf.keras.layers.Layer):
    def __init__(self, sizes, **kwargs):
        super().__init__(**kwargs)
        self.sizes = sizes

    @v1.keras.utils.track_tf1_style_variables
    def call(self, inputs, training=False):
        with v1.variable_scope("mlp"):
            hidden = dense(inputs, self.sizes.hidden, "dense", tf.nn.relu)
            hidden = dense(hidden, self.sizes.hidden, "dense_1", tf.nn.relu)
            return dense(hidden, self.sizes.classes, "logits")
