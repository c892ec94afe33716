"""TF-Slim inside track_tf1_style_variables, with tf1kit.compat.slim applied.

What works: arg_scope, conv2d, separable_conv2d, conv2d_transpose,
fully_connected, max_pool2d, avg_pool2d, dropout, flatten, batch_norm (4-D,
through tf1kit.layers), keras regularizers. slim.l2_regularizer and the 2-D
batch_norm path (slim's own fused code) read `variable.dtype.base_dtype`, so
they also need TF1Variable.dtype to answer like a tf.DType (see the report).
"""

import numpy as np
import pytest

from differential import assert_same, case, official, ours

SLIM_NET = case("slim_net", '''
import tf_slim as slim

class Net(tf.keras.layers.Layer):
    @v1.keras.utils.track_tf1_style_variables
    def call(self, x):
        with slim.arg_scope([slim.conv2d, slim.fully_connected],
                            weights_initializer=v1.glorot_uniform_initializer(),
                            weights_regularizer=tf.keras.regularizers.L2(0.01)):
            h = slim.conv2d(x, 4, [3, 3], scope="conv1")
            h = slim.max_pool2d(h, [2, 2], scope="pool1")
            h = slim.conv2d(h, 3, [2, 2], padding="VALID", scope="conv2")
            h = slim.flatten(h)
            return slim.fully_connected(h, 5, activation_fn=None, scope="fc")

with v1.keras.utils.DeterministicRandomTestTool(mode="num_random_ops").scope():
    net = Net()
    x = tf.constant(np.random.RandomState(0).uniform(size=(2, 8, 8, 3)), tf.float32)
    net(x)
    result["y"] = net(x)
    result["weights"] = {v.name: v.numpy() for v in net.weights}
    result["n_losses"] = len(net.losses)
    result["loss"] = float(tf.add_n(net.losses))
''')


@pytest.fixture(scope="module", autouse=True)
def slim_on_tf1kit():
    """install() points TF-Slim's layer modules at tf1kit.layers."""
    import tf1kit

    tf1kit.install()


def test_importing_slim_keeps_tf1kit_installed():
    import tensorflow as tf
    import tensorflow.compat.v1 as tf_v1

    import tf1kit

    assert tf.compat.v1.layers is tf1kit.layers
    assert tf_v1.layers is tf1kit.layers


def test_slim_layers_match_official_names_values_and_losses():
    expected, actual = official(SLIM_NET), ours(SLIM_NET)
    assert_same(expected, actual, rtol=1e-5, atol=1e-5)
    assert sorted(actual["weights"])[:2] == ["conv1/biases:0", "conv1/weights:0"]


def _model(body):
    import tensorflow as tf

    import tf1kit

    class Model(tf.keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x, training=False):
            return body(x, training)

    return Model()


def test_slim_batch_norm_4d_trains_and_tracks_moving_statistics():
    import tensorflow as tf
    import tf_slim as slim

    def body(x, training):
        h = slim.conv2d(x, 4, 3, scope="conv")
        h = slim.batch_norm(h, is_training=training, decay=0.5, scale=True, scope="bn")
        return slim.dropout(h, 0.5, is_training=training)

    model = _model(body)
    x = tf.constant(np.random.RandomState(2).normal(2.0, 1.0, (4, 6, 6, 3)), tf.float32)
    model(x, training=True)
    model(x, training=True)
    weights = {v.name: v for v in model.weights}
    assert sorted(weights) == sorted([
        "conv/weights:0", "conv/biases:0", "bn/gamma:0", "bn/beta:0",
        "bn/moving_mean:0", "bn/moving_variance:0"])
    assert not weights["bn/moving_mean:0"].trainable
    assert np.abs(weights["bn/moving_mean:0"].numpy()).max() > 0  # updated eagerly
    inference = model(x, training=False)
    assert inference.shape == (4, 6, 6, 4)


def test_slim_l2_regularizer_is_counted_once():
    import tensorflow as tf
    import tf_slim as slim

    def body(x, training):
        with slim.arg_scope([slim.fully_connected],
                            weights_regularizer=slim.l2_regularizer(0.5)):
            h = slim.fully_connected(x, 3, scope="fc1")
            return slim.fully_connected(h, 2, scope="fc2")

    model = _model(body)
    model(tf.ones([2, 4]))
    model(tf.ones([2, 4]))
    kernels = [v for v in model.weights if "weights" in v.name]
    expected = sum(0.5 * 0.5 * float(tf.reduce_sum(tf.square(k))) for k in kernels)
    assert len(model.losses) == 2
    assert float(tf.add_n(model.losses)) == pytest.approx(expected, rel=1e-5)


def test_slim_batch_norm_2d_uses_slims_fused_path():
    import tensorflow as tf
    import tf_slim as slim

    model = _model(lambda x, training: slim.batch_norm(x, is_training=training,
                                                       decay=0.5, scope="bn"))
    x = tf.constant(np.random.RandomState(3).normal(1.0, 2.0, (8, 3)), tf.float32)
    model(x, training=True)
    moving_mean = {v.name: v for v in model.weights}["bn/moving_mean:0"]
    np.testing.assert_allclose(moving_mean.numpy(), 0.5 * x.numpy().mean(0), rtol=1e-5)
