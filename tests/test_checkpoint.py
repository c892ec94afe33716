"""Loading checkpoints written by a real TF1 `Saver` in a TF1 graph."""

import numpy as np
import pytest
import tensorflow as tf
import keras

import tf1kit

v1 = tf.compat.v1


def forward(x):
    """TF1 modeling code shared by the graph and the shim."""
    with v1.variable_scope("model"):
        with v1.variable_scope("hidden"):
            w = v1.get_variable("kernel", [4, 3])
            b = v1.get_variable("bias", [3], initializer=v1.zeros_initializer())
        h = tf.nn.relu(tf.matmul(x, w) + b)
        steps = v1.get_variable("steps", [], dtype=tf.int64, trainable=False,
                                initializer=v1.zeros_initializer())
        with v1.variable_scope("out"):
            w2 = v1.get_variable("kernel", [3, 2])
        return tf.matmul(h, w2), steps


class Shim(keras.layers.Layer):
    @tf1kit.track_tf1_style_variables
    def call(self, x):
        return forward(x)[0]


X = np.random.RandomState(0).randn(5, 4).astype(np.float32)


@pytest.fixture(scope="module")
def tf1_checkpoint(tmp_path_factory):
    """Trains a TF1 graph for a few steps with Adam and saves it with Saver."""
    directory = tmp_path_factory.mktemp("tf1")
    graph = tf.Graph()
    with graph.as_default():
        x = v1.placeholder(tf.float32, [None, 4])
        out, steps = forward(x)
        global_step = v1.train.get_or_create_global_step()
        train = v1.train.AdamOptimizer(0.1).minimize(tf.reduce_sum(out ** 2), global_step=global_step)
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            for _ in range(3):
                sess.run(train, {x: X})
            sess.run(v1.assign(steps, 3))
            expected = sess.run(out, {x: X})
            prefix = v1.train.Saver().save(sess, str(directory / "model.ckpt"), global_step=3)
    return prefix, expected


def test_loads_saver_checkpoint_by_tf1_name(tf1_checkpoint):
    prefix, expected = tf1_checkpoint
    layer = Shim()
    layer(X)
    report = tf1kit.load_tf1_checkpoint(layer, prefix)
    assert report.assigned and report.complete
    assert report.loaded == ["model/hidden/bias", "model/hidden/kernel", "model/out/kernel", "model/steps"]
    assert "global_step" in report.ignored and any("/Adam" in n for n in report.ignored)
    np.testing.assert_allclose(layer(X).numpy(), expected, rtol=1e-6)


def test_directory_resolves_to_latest_checkpoint(tf1_checkpoint):
    prefix, expected = tf1_checkpoint
    layer = Shim()
    layer(X)
    report = tf1kit.load_tf1_checkpoint(layer, prefix.rsplit("/", 1)[0])
    assert report.path == prefix


def test_mismatch_assigns_nothing_unless_partial(tf1_checkpoint):
    prefix, expected = tf1_checkpoint

    class Renamed(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x):
            with v1.variable_scope("model"):
                with v1.variable_scope("hidden"):
                    w = v1.get_variable("kernel", [4, 3])
                    b = v1.get_variable("bias", [5], initializer=v1.zeros_initializer())
                return tf.matmul(x, w) * v1.get_variable("extra", [])

    layer = Renamed()
    layer(X)
    before = {v.name: v.numpy().copy() for v in layer.weights}
    with pytest.warns(UserWarning, match="nothing assigned"):
        report = tf1kit.load_tf1_checkpoint(layer, prefix)
    assert not report.assigned and report.loaded == []
    assert report.missing == ["model/extra"]
    assert report.shape_mismatches == [("model/hidden/bias", (5,), (3,))]
    assert "model/out/kernel" in report.unexpected
    for v in layer.weights:
        np.testing.assert_array_equal(v.numpy(), before[v.name])
    partial = tf1kit.load_tf1_checkpoint(layer, prefix, partial=True)
    assert partial.loaded == ["model/hidden/kernel"]


def test_name_map_follows_renamed_variables(tf1_checkpoint):
    prefix, expected = tf1_checkpoint

    class Migrated(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x):
            with v1.variable_scope("net"):
                return forward(x)[0]

    layer = Migrated()
    layer(X)
    report = tf1kit.load_tf1_checkpoint(layer, prefix, name_map=lambda name: "net/" + name)
    assert report.complete
    np.testing.assert_allclose(layer(X).numpy(), expected, rtol=1e-6)


def test_tf_module_owner(tf1_checkpoint):
    prefix, expected = tf1_checkpoint

    class Module(tf.Module):
        @tf1kit.track_tf1_style_variables
        def __call__(self, x):
            return forward(x)[0]

    module = Module()
    module(X)
    assert tf1kit.load_tf1_checkpoint(module, prefix).complete
    np.testing.assert_allclose(module(X).numpy(), expected, rtol=1e-6)


def test_bad_inputs_name_what_is_wrong(tmp_path):
    layer = Shim()
    with pytest.raises(ValueError, match="no TF1-style variables yet"):
        tf1kit.load_tf1_checkpoint(layer, str(tmp_path))
    layer(X)
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "nope.ckpt")):
        tf1kit.load_tf1_checkpoint(layer, str(tmp_path / "nope.ckpt"))
    with pytest.raises(FileNotFoundError, match="no checkpoint found in directory"):
        tf1kit.load_tf1_checkpoint(layer, str(tmp_path))
    with pytest.raises(TypeError, match="expected a Keras layer/model or tf.Module"):
        tf1kit.load_tf1_checkpoint(object(), str(tmp_path))
