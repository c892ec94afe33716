"""The raw-ops floor: every network written on plain `tf.Variable`s.

No framework at all: a `tf.Module` holds `tf.Variable`s created up front and
`__call__` runs the same TensorFlow ops the TF1 source runs (`tf.nn.conv2d`,
`tf.nn.batch_normalization` or `fused_batch_norm`, `tf.matmul`, the LSTM
cell's math). What a shim costs on top of this is its bookkeeping: scopes,
variable lookups, layer objects, argument processing.

Each class takes the `Sizes` of the benchmark (or the count, for
`many_variables`) and is called as `model(inputs, training=...)`, like the
other worlds' networks.
"""

import numpy as np
import tensorflow as tf

from benchmarks.networks.batch_norm_settings import DECAY as BN_DECAY
from benchmarks.networks.batch_norm_settings import EPSILON as BN_EPSILON


def _glorot(shape, rng, trainable=True, name=None):
    fan_in = int(np.prod(shape[:-1]))
    fan_out = int(np.prod(shape[:-2])) * shape[-1] if len(shape) > 2 else shape[-1]
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    value = rng.uniform(-limit, limit, shape).astype(np.float32)
    return tf.Variable(value, trainable=trainable, name=name)


def _constant(value, shape, trainable=True, name=None):
    return tf.Variable(tf.fill(shape, float(value)), trainable=trainable, name=name)


class RawMLP(tf.Module):
    """tf1_mlp.py: three matmul + bias layers."""

    def __init__(self, sizes):
        super().__init__()
        rng = np.random.default_rng(0)
        widths = (sizes.features, sizes.hidden, sizes.hidden, sizes.classes)
        self.kernels = [_glorot([a, b], rng) for a, b in zip(widths, widths[1:])]
        self.biases = [_constant(0, [b]) for b in widths[1:]]

    def __call__(self, inputs, training=False):
        outputs = inputs
        last = len(self.kernels) - 1
        for index, (kernel, bias) in enumerate(zip(self.kernels, self.biases)):
            outputs = tf.matmul(outputs, kernel) + bias
            if index != last:
                outputs = tf.nn.relu(outputs)
        return outputs


class _RawConvBN(tf.Module):
    """conv (no bias) + batch norm (+ relu), TF1's moving averages by assignment."""

    def __init__(self, in_channels, filters, stride, relu, fused, rng):
        super().__init__()
        self.kernel = _glorot([3, 3, in_channels, filters], rng)
        self.gamma = _constant(1, [filters])
        self.beta = _constant(0, [filters])
        self.moving_mean = _constant(0, [filters], trainable=False)
        self.moving_variance = _constant(1, [filters], trainable=False)
        self.stride, self.relu, self.fused = stride, relu, fused

    def __call__(self, inputs, training=False):
        outputs = tf.nn.conv2d(inputs, self.kernel, strides=self.stride, padding="SAME")
        if self.fused:
            outputs = self._fused_batch_norm(outputs, training)
        else:
            outputs = self._batch_norm(outputs, training)
        return tf.nn.relu(outputs) if self.relu else outputs

    def _batch_norm(self, inputs, training):
        # tf1_resnet.py's ops: moments + batch_normalization.
        if training:
            mean, variance = tf.nn.moments(inputs, axes=[0, 1, 2])
            self.moving_mean.assign(self.moving_mean * BN_DECAY + mean * (1 - BN_DECAY))
            self.moving_variance.assign(
                self.moving_variance * BN_DECAY + variance * (1 - BN_DECAY))
        else:
            mean, variance = self.moving_mean, self.moving_variance
        return tf.nn.batch_normalization(
            inputs, mean, variance, self.beta, self.gamma, BN_EPSILON)

    def _fused_batch_norm(self, inputs, training):
        # tf.compat.v1.layers.batch_normalization's ops: the fused kernel.
        if training:
            outputs, mean, variance = tf.compat.v1.nn.fused_batch_norm(
                inputs, self.gamma, self.beta, epsilon=BN_EPSILON, is_training=True)
            self.moving_mean.assign_sub((self.moving_mean - mean) * (1 - BN_DECAY))
            self.moving_variance.assign_sub((self.moving_variance - variance) * (1 - BN_DECAY))
            return outputs
        outputs, _, _ = tf.compat.v1.nn.fused_batch_norm(
            inputs, self.gamma, self.beta, self.moving_mean, self.moving_variance,
            epsilon=BN_EPSILON, is_training=False)
        return outputs


class _RawResidualBlock(tf.Module):
    def __init__(self, in_channels, filters, stride, fused, rng):
        super().__init__()
        self.projection = None
        if stride != 1 or in_channels != filters:
            self.projection = _RawConvBN(in_channels, filters, stride, False, fused, rng)
        self.a = _RawConvBN(in_channels, filters, stride, True, fused, rng)
        self.b = _RawConvBN(filters, filters, 1, False, fused, rng)

    def __call__(self, inputs, training=False):
        shortcut = inputs if self.projection is None else self.projection(inputs, training)
        return tf.nn.relu(self.b(self.a(inputs, training), training) + shortcut)


class RawResNet(tf.Module):
    """tf1_resnet.py: stem, three residual blocks, mean over space, dense head."""

    fused = False

    def __init__(self, sizes):
        super().__init__()
        rng = np.random.default_rng(0)
        width = sizes.channels
        self.stem = _RawConvBN(3, width, 1, True, self.fused, rng)
        self.blocks = [
            _RawResidualBlock(width, width, 1, self.fused, rng),
            _RawResidualBlock(width, 2 * width, 2, self.fused, rng),
            _RawResidualBlock(2 * width, 2 * width, 1, self.fused, rng),
        ]
        self.kernel = _glorot([2 * width, sizes.classes], rng)
        self.bias = _constant(0, [sizes.classes])

    def __call__(self, inputs, training=False):
        outputs = self.stem(inputs, training)
        for block in self.blocks:
            outputs = block(outputs, training)
        pooled = tf.reduce_mean(outputs, axis=[1, 2])
        return tf.matmul(pooled, self.kernel) + self.bias


class RawResNetFused(RawResNet):
    """tf1_resnet_layers.py: the same net with the fused batch norm of the
    compat layers (their conv has no bias, their dense head one)."""

    fused = True


class RawSlimNet(tf.Module):
    """tf1_slim.py: conv+bias+relu, max pools, flatten, two dense layers."""

    def __init__(self, sizes):
        super().__init__()
        rng = np.random.default_rng(0)
        width = sizes.channels
        channels = (3, width, 2 * width, 4 * width)
        self.conv_kernels = [_glorot([3, 3, a, b], rng) for a, b in zip(channels, channels[1:])]
        self.conv_biases = [_constant(0, [b]) for b in channels[1:]]
        flat = (sizes.image // 4) ** 2 * 4 * width
        self.fc_kernels = [_glorot([flat, 8 * width], rng),
                           _glorot([8 * width, sizes.classes], rng)]
        self.fc_biases = [_constant(0, [8 * width]), _constant(0, [sizes.classes])]

    def __call__(self, inputs, training=False):
        net = inputs
        for index, (kernel, bias) in enumerate(zip(self.conv_kernels, self.conv_biases)):
            net = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(net, kernel, 1, "SAME"), bias))
            if index < 2:
                net = tf.nn.max_pool2d(net, 2, 2, "VALID")
        net = tf.reshape(net, [tf.shape(net)[0], -1])
        net = tf.nn.relu(tf.nn.bias_add(tf.matmul(net, self.fc_kernels[0]), self.fc_biases[0]))
        return tf.nn.bias_add(tf.matmul(net, self.fc_kernels[1]), self.fc_biases[1])


class RawLSTMLanguageModel(tf.Module):
    """tf1_lstm_lm.py: embedding lookup, two LSTM layers stepped in Python (as
    `dynamic_rnn`'s loop runs eagerly), softmax layer on the last step."""

    def __init__(self, sizes):
        super().__init__()
        rng = np.random.default_rng(0)
        vocabulary, hidden = sizes.classes, sizes.hidden
        self.hidden = hidden
        self.embedding = tf.Variable(
            rng.uniform(-0.1, 0.1, [vocabulary, hidden]).astype(np.float32))
        self.kernels = [tf.Variable(rng.uniform(-0.1, 0.1, [2 * hidden, 4 * hidden])
                                    .astype(np.float32)) for _ in range(2)]
        self.biases = [_constant(0, [4 * hidden]) for _ in range(2)]
        self.softmax_w = tf.Variable(
            rng.uniform(-0.1, 0.1, [hidden, vocabulary]).astype(np.float32))
        self.softmax_b = tf.Variable(rng.uniform(-0.1, 0.1, [vocabulary]).astype(np.float32))

    def __call__(self, tokens, training=False):
        inputs = tf.nn.embedding_lookup(self.embedding, tokens)
        batch = tf.shape(tokens)[0]
        states = [(tf.zeros([batch, self.hidden]), tf.zeros([batch, self.hidden]))
                  for _ in self.kernels]
        output = None
        for step in range(tokens.shape[1]):
            output = inputs[:, step]
            for layer, (kernel, bias) in enumerate(zip(self.kernels, self.biases)):
                c, h = states[layer]
                gates = tf.nn.bias_add(tf.matmul(tf.concat([output, h], 1), kernel), bias)
                i, j, f, o = tf.split(gates, 4, axis=1)
                c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(j)  # forget_bias=0.0
                h = tf.sigmoid(o) * tf.tanh(c)
                states[layer] = (c, h)
                output = h
        return tf.matmul(output, self.softmax_w) + self.softmax_b


class RawManyVariables(tf.Module):
    """tf1_many_variables.py: N variables read and summed."""

    def __init__(self, count):
        super().__init__()
        self.values = [tf.Variable(tf.zeros([4])) for _ in range(count)]

    def __call__(self, inputs, training=False):
        return inputs + tf.add_n(self.values)
