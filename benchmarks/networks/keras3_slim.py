"""The TF-Slim net of tf1_slim.py written with native Keras 3 layers."""

import keras


class Keras3SlimNet(keras.layers.Layer):
    def __init__(self, sizes, **kwargs):
        super().__init__(**kwargs)
        width = sizes.channels

        def conv(filters):
            return keras.layers.Conv2D(
                filters, 3, padding="same", activation="relu",
                kernel_initializer="glorot_uniform")

        self.conv1, self.conv2, self.conv3 = conv(width), conv(2 * width), conv(4 * width)
        self.pool1 = keras.layers.MaxPooling2D(2)
        self.pool2 = keras.layers.MaxPooling2D(2)
        self.flatten = keras.layers.Flatten()
        self.fc1 = keras.layers.Dense(8 * width, activation="relu")
        self.logits = keras.layers.Dense(sizes.classes)

    def call(self, inputs, training=False):
        net = self.pool1(self.conv1(inputs))
        net = self.conv3(self.pool2(self.conv2(net)))
        return self.logits(self.fc1(self.flatten(net)))
