"""Correct migrations verify as `ok`: lesson 7's chain (compat, then partially
native, then fully native) and TF-Slim's resnet_v1 against a native Keras 3
rewrite. The TF1 world runs TensorFlow's own TF1 layers in a Graph + Session,
so `ok` means every world matched TF 1.x, stage by stage."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import tf1kit
from tf1kit.verify import stages

tf1kit.install()
v1 = tf.compat.v1
L2 = keras.regularizers.L2


# -- lesson 7's models -------------------------------------------------------

class LegacyNet(keras.layers.Layer):
    def __init__(self, classes, **kwargs):
        super().__init__(**kwargs)
        self.classes = classes

    @tf.compat.v1.keras.utils.track_tf1_style_variables
    def call(self, x):
        with v1.variable_scope("net"):
            h = v1.layers.conv2d(x, 4, 3, kernel_regularizer=L2(0.01))
            h = v1.layers.flatten(h)
            return v1.layers.dense(h, self.classes, kernel_regularizer=L2(0.01))


class Step1Net(keras.layers.Layer):
    def __init__(self, classes, **kwargs):
        super().__init__(**kwargs)
        self.classes = classes
        self.conv = keras.layers.Conv2D(4, 3, kernel_regularizer=L2(0.01))

    @tf.compat.v1.keras.utils.track_tf1_style_variables
    def call(self, x):
        with v1.variable_scope("net"):
            h = self.conv(x)
            h = v1.layers.flatten(h)
            return v1.layers.dense(h, self.classes, kernel_regularizer=L2(0.01))


class Step2Net(keras.layers.Layer):
    def __init__(self, classes, **kwargs):
        super().__init__(**kwargs)
        self.conv = keras.layers.Conv2D(4, 3, kernel_regularizer=L2(0.01))
        self.flatten = keras.layers.Flatten()
        self.dense = keras.layers.Dense(classes, kernel_regularizer=L2(0.01))

    @tf.compat.v1.keras.utils.track_tf1_style_variables
    def call(self, x):
        with v1.variable_scope("net"):
            return self.dense(self.flatten(self.conv(x)))


class NativeNet(keras.layers.Layer):
    def __init__(self, classes, **kwargs):
        super().__init__(**kwargs)
        self.conv = keras.layers.Conv2D(4, 3, kernel_regularizer=L2(0.01))
        self.flatten = keras.layers.Flatten()
        self.dense = keras.layers.Dense(classes, kernel_regularizer=L2(0.01))

    def call(self, x):
        return self.dense(self.flatten(self.conv(x)))


X = np.random.RandomState(3).normal(size=(6, 7, 7, 2)).astype("float32")
ALL_WORLDS = {"tf1_graph", "shim_eager", "shim_function", "native"}


def assert_proves(report, moving_stats=False):
    """ok, and ok because every stage was compared in every world (not skipped)."""
    assert report.ok, str(report)
    assert report.failures == [] and report.not_compared == []
    assert set(report.worlds) == ALL_WORLDS
    assert all(world["ran"] and world["drew_initial_values"] for world in report.worlds.values())
    expected = set(report.stages) - (set() if moving_stats else {stages.MOVING_STATS})
    for world in ALL_WORLDS - {"tf1_graph"}:
        seen = {row["stage"] for row in report.rows if row["world"] == world}
        assert seen == expected, (world, expected ^ seen)


def test_step1_replaces_the_convolution():
    report = tf1kit.verify(LegacyNet(5), X, native=Step1Net(5))
    assert_proves(report)
    assert {"tf1": "net/conv2d/kernel", "native": "conv2d/kernel",
            "how": "scope path and shape"} in report.name_matches
    assert {"tf1": "net/dense/kernel", "native": "net/dense/kernel",
            "how": "same name"} in report.name_matches


def test_step2_replaces_the_rest_keeping_the_decorator():
    assert_proves(tf1kit.verify(Step1Net(5), X, native=Step2Net(5)))


def test_step3_plain_keras_reads_as_one_call():
    step2, step3 = Step2Net(5), NativeNet(5)
    report = tf1kit.verify(step2, X, native=step3)
    assert_proves(report)
    # The TF1 world ran Step2Net's Keras layers inside a TF1 graph: the same
    # variables, named by their Keras paths below the layer.
    assert {m["tf1"] for m in report.name_matches} == {
        "conv2d/kernel", "conv2d/bias", "dense/kernel", "dense/bias"}
    # verify built its own copies: the user's layers were never called.
    assert not step2.built and not step3.built and step2.weights == []


def test_ok_with_adam_too():
    """'adam' pairs TF1's AdamOptimizer (epsilon 1e-8) with Keras 3's Adam set to it."""
    report = tf1kit.verify(LegacyNet(5), X, native=NativeNet(5), optimizer="adam", steps=2)
    assert_proves(report)
    assert report.worlds["tf1_graph"]["optimizer"] == {
        "class": "AdamOptimizer", "learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999,
        "epsilon": 1e-8}
    assert report.worlds["native"]["optimizer"]["epsilon"] == pytest.approx(1e-8)


# -- TF-Slim's resnet_v1 and a native Keras 3 rewrite ------------------------

WEIGHT_DECAY, BN_DECAY, BN_EPSILON = 0.0001, 0.997, 1e-5  # resnet_arg_scope's defaults


class SlimResNet(keras.layers.Layer):
    """tf_slim.nets.resnet_v1 with one tiny block, as a migrating user wraps it."""

    def __init__(self, classes=3, **kwargs):
        super().__init__(**kwargs)
        self.classes = classes

    @tf1kit.track_tf1_style_variables
    def call(self, x, training=False):
        import tf_slim as slim
        from tf_slim.nets import resnet_utils, resnet_v1

        blocks = [resnet_v1.resnet_v1_block("block1", base_depth=2, num_units=2, stride=2)]
        with slim.arg_scope(resnet_utils.resnet_arg_scope()):
            net, _ = resnet_v1.resnet_v1(x, blocks, num_classes=self.classes,
                                         is_training=bool(training), global_pool=True,
                                         include_root_block=False, scope="resnet_v1")
        return tf.squeeze(net, [1, 2])


def slim_variance_scaling(fan_in):
    """slim.variance_scaling_initializer(): truncated normal, stddev sqrt(1.3 * 2 / fan_in)."""
    return keras.initializers.TruncatedNormal(stddev=math.sqrt(1.3 * 2.0 / fan_in))


class FusedBatchNorm(keras.layers.Layer):
    """slim.batch_norm as TF1 ran it (fused): the moving variance averages the
    unbiased batch variance, n/(n-1) times the one it normalizes with."""

    def __init__(self, momentum=BN_DECAY, epsilon=BN_EPSILON, **kwargs):
        super().__init__(**kwargs)
        self.momentum, self.epsilon = momentum, epsilon

    def build(self, shape):
        depth = (shape[-1],)
        self.beta = self.add_weight(name="beta", shape=depth, initializer="zeros")
        self.gamma = self.add_weight(name="gamma", shape=depth, initializer="ones")
        self.moving_mean = self.add_weight(name="moving_mean", shape=depth,
                                           initializer="zeros", trainable=False)
        self.moving_variance = self.add_weight(name="moving_variance", shape=depth,
                                               initializer="ones", trainable=False)

    def call(self, x, training=False):
        if training:
            mean, variance = tf.nn.moments(x, [0, 1, 2])
            count = tf.cast(tf.reduce_prod(tf.shape(x)[:-1]), x.dtype)
            unbiased = variance * count / tf.maximum(count - 1, 1)
            decay = 1 - self.momentum
            self.moving_mean.assign_sub((self.moving_mean - mean) * decay)
            self.moving_variance.assign_sub((self.moving_variance - unbiased) * decay)
        else:
            mean, variance = self.moving_mean, self.moving_variance
        return tf.nn.batch_normalization(x, mean, variance, self.beta, self.gamma, self.epsilon)


class ConvBN(keras.layers.Layer):
    """slim.conv2d under resnet_arg_scope: no bias, batch norm, relu unless told;
    a strided 3x3 pads explicitly, as resnet_utils.conv2d_same does."""

    def __init__(self, filters, size, stride, fan_in, relu=True, keras_batch_norm=False,
                 **kwargs):
        super().__init__(**kwargs)
        self.padding = None
        if size > 1 and stride > 1:
            begin, end = (size - 1) // 2, size - 1 - (size - 1) // 2
            self.padding = [[0, 0], [begin, end], [begin, end], [0, 0]]
        self.conv = keras.layers.Conv2D(
            filters, size, strides=stride, use_bias=False, name="conv",
            padding="valid" if self.padding else "same",
            kernel_initializer=slim_variance_scaling(size * size * fan_in),
            # slim.l2_regularizer(scale) is scale * sum(w**2) / 2; Keras' L2 has no / 2.
            kernel_regularizer=L2(WEIGHT_DECAY / 2))
        self.bn = (keras.layers.BatchNormalization(momentum=BN_DECAY, epsilon=BN_EPSILON,
                                                   name="bn")
                   if keras_batch_norm else FusedBatchNorm(name="bn"))
        self.relu = relu

    def call(self, x, training=False):
        if self.padding:
            x = tf.pad(x, self.padding)
        x = self.bn(self.conv(x), training=training)
        return tf.nn.relu(x) if self.relu else x


class Bottleneck(keras.layers.Layer):
    def __init__(self, depth, bottleneck, stride, depth_in, keras_batch_norm=False, **kwargs):
        super().__init__(**kwargs)
        options = {"keras_batch_norm": keras_batch_norm}
        self.stride = stride
        self.shortcut = (None if depth == depth_in else
                         ConvBN(depth, 1, stride, depth_in, relu=False, name="shortcut", **options))
        self.conv1 = ConvBN(bottleneck, 1, 1, depth_in, name="conv1", **options)
        self.conv2 = ConvBN(bottleneck, 3, stride, bottleneck, name="conv2", **options)
        self.conv3 = ConvBN(depth, 1, 1, bottleneck, relu=False, name="conv3", **options)

    def call(self, x, training=False):
        if self.shortcut is not None:
            shortcut = self.shortcut(x, training=training)
        else:  # resnet_utils.subsample
            shortcut = tf.nn.max_pool2d(x, 1, self.stride, "SAME") if self.stride > 1 else x
        residual = self.conv1(x, training=training)
        residual = self.conv3(self.conv2(residual, training=training), training=training)
        return tf.nn.relu(shortcut + residual)


class NativeResNet(keras.layers.Layer):
    def __init__(self, classes=3, keras_batch_norm=False, **kwargs):
        super().__init__(**kwargs)
        self.unit1 = Bottleneck(8, 2, 1, 3, keras_batch_norm, name="unit_1")
        self.unit2 = Bottleneck(8, 2, 2, 8, keras_batch_norm, name="unit_2")
        self.logits = keras.layers.Conv2D(classes, 1, kernel_initializer=slim_variance_scaling(8),
                                          kernel_regularizer=L2(WEIGHT_DECAY / 2), name="logits")

    def call(self, x, training=False):
        x = self.unit2(self.unit1(x, training=training), training=training)
        return tf.squeeze(self.logits(tf.reduce_mean(x, [1, 2], keepdims=True)), [1, 2])


IMAGES = np.random.RandomState(0).normal(size=(4, 8, 8, 3)).astype("float32")


def test_slim_resnet_v1_block_and_its_native_rewrite_are_ok():
    report = tf1kit.verify(SlimResNet(), IMAGES, native=NativeResNet())
    assert_proves(report, moving_stats=True)
    assert report.worlds["tf1_graph"]["variables"] == 37  # 7 convolutions, 7 x 4 batch norm, 1 bias
    pairs = {m["tf1"]: m["native"] for m in report.name_matches}
    unit2 = "resnet_v1/block1/unit_2/bottleneck_v1"
    assert pairs[f"{unit2}/conv2/weights"] == "unit_2/conv2/conv/kernel"
    assert pairs["resnet_v1/block1/unit_1/bottleneck_v1/shortcut/BatchNorm/moving_variance"] == (
        "unit_1/shortcut/bn/moving_variance")
    assert pairs["resnet_v1/logits/biases"] == "logits/bias"


def test_keras_batch_norm_in_place_of_slims_fused_one_is_caught():
    """Keras 3's BatchNormalization averages the biased batch variance; TF1's
    fused batch norm the unbiased one. Outputs and gradients agree; the moving
    variances drift apart from the first training pass."""
    report = tf1kit.verify(SlimResNet(), IMAGES, native=NativeResNet(keras_batch_norm=True),
                           steps=1)
    assert not report.ok
    diverging = {name: stage for name, stage in report.first_divergence.items()}
    assert diverging and all(name.endswith("/BatchNorm/moving_variance") for name in diverging)
    assert set(diverging.values()) == {stages.MOVING_STATS}
    assert {row["world"] for row in report.failures} == {"native"}


class HalfMigrated(keras.layers.Layer):
    """A Keras 3 BatchNormalization already inside the decorated TF1 code."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.bn = keras.layers.BatchNormalization(name="bn")

    @tf1kit.track_tf1_style_variables
    def call(self, x, training=False):
        with v1.variable_scope("mixed"):
            return self.bn(v1.layers.dense(x, 4, name="dense"), training=training)


class FullyMigrated(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(4, name="dense")
        self.bn = keras.layers.BatchNormalization(name="bn")

    def call(self, x, training=False):
        return self.bn(self.dense(x), training=training)


def test_keras_layers_inside_the_tf1_graph_update_their_statistics():
    """In the TF1 graph a Keras 3 layer's in-call assignments run with the
    update ops (Keras code applies them during the call); TF1 code's do not."""
    x = np.random.RandomState(2).normal(size=(8, 3)).astype("float32")
    report = tf1kit.verify(HalfMigrated(), x, native=FullyMigrated())
    assert_proves(report, moving_stats=True)
    moving = [row for row in report.rows
              if row["stage"] == stages.MOVING_STATS and row["name"] == "bn/moving_mean"]
    assert {row["world"] for row in moving} == {"shim_eager", "shim_function", "native"}
    assert not any("ops nothing runs" in note for note in report.notes)
