"""The ResNet of tf1_resnet.py written with native Keras 3 layers."""

import keras

from benchmarks.networks.batch_norm_settings import DECAY as BN_DECAY
from benchmarks.networks.batch_norm_settings import EPSILON as BN_EPSILON


class ConvBN(keras.layers.Layer):
    def __init__(self, filters, stride, relu=True, **kwargs):
        super().__init__(**kwargs)
        self.conv = keras.layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False)
        self.bn = keras.layers.BatchNormalization(momentum=BN_DECAY, epsilon=BN_EPSILON)
        self.relu = relu

    def call(self, inputs, training=False):
        outputs = self.bn(self.conv(inputs), training=training)
        return keras.ops.relu(outputs) if self.relu else outputs


class ResidualBlock(keras.layers.Layer):
    def __init__(self, filters, stride, projection, **kwargs):
        super().__init__(**kwargs)
        self.projection = ConvBN(filters, stride, relu=False) if projection else None
        self.a = ConvBN(filters, stride)
        self.b = ConvBN(filters, 1, relu=False)

    def call(self, inputs, training=False):
        shortcut = self.projection(inputs, training=training) if self.projection else inputs
        outputs = self.b(self.a(inputs, training=training), training=training)
        return keras.ops.relu(outputs + shortcut)


class Keras3ResNet(keras.layers.Layer):
    def __init__(self, sizes, **kwargs):
        super().__init__(**kwargs)
        width = sizes.channels
        self.stem = ConvBN(width, 1)
        self.block1 = ResidualBlock(width, 1, projection=False)
        self.block2 = ResidualBlock(2 * width, 2, projection=True)
        self.block3 = ResidualBlock(2 * width, 1, projection=False)
        self.logits = keras.layers.Dense(sizes.classes)

    def call(self, inputs, training=False):
        outputs = self.stem(inputs, training=training)
        for block in (self.block1, self.block2, self.block3):
            outputs = block(outputs, training=training)
        return self.logits(keras.ops.mean(outputs, axis=[1, 2]))
