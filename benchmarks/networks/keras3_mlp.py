"""The MLP of tf1_mlp.py written with native Keras 3 layers."""

import keras


class Keras3MLP(keras.layers.Layer):
    def __init__(self, sizes, **kwargs):
        super().__init__(**kwargs)
        self.hidden_1 = keras.layers.Dense(sizes.hidden, activation="relu")
        self.hidden_2 = keras.layers.Dense(sizes.hidden, activation="relu")
        self.logits = keras.layers.Dense(sizes.classes)

    def call(self, inputs, training=False):
        return self.logits(self.hidden_2(self.hidden_1(inputs)))
