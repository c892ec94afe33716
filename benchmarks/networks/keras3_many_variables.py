"""Reference for tf1_many_variables.py: N weights held by a native Keras 3 layer."""

import keras
import tensorflow as tf


class Keras3ManyVariables(keras.layers.Layer):
    def __init__(self, count, **kwargs):
        super().__init__(**kwargs)
        self.values = [self.add_weight(shape=(4,), initializer="zeros", name=f"v{i}")
                       for i in range(count)]

    def call(self, inputs):
        return inputs + tf.add_n([v.value for v in self.values])
