"""TF1 graph mode is the ground truth (tests/differential.py, `graph_case`).

The TF1 model function below runs as a TF1 graph (placeholders + Session) in
the oracle process, where `tf.compat.v1.layers` are TF1's own and tf1kit cannot
be imported; here it runs in a decorated Keras layer on tf1kit. With the
graph's initial values copied by name, outputs, regularization loss and
batch-norm updates must agree. The same graph source built by tf1kit's layers
(`tf1kit_graph`) must agree with TF1's too.
"""

import numpy as np
import pytest
import tensorflow as tf

import tf1kit
from differential import assert_same, graph_case, tf1_graph, tf1kit_graph

v1 = tf.compat.v1

MODEL_FN = """
def model_fn(x, training):
    with v1.variable_scope("model"):
        h = v1.layers.conv2d(x, 4, 3, padding="same", kernel_regularizer="l2")
        h = v1.layers.batch_normalization(h, training=training, momentum=0.5)
        h = v1.layers.max_pooling2d(h, 2, 2)
        h = v1.layers.separable_conv2d(h, 3, 2, padding="same", pointwise_regularizer="l2")
        h = v1.layers.conv2d_transpose(h, 2, 2, strides=2)
        h = v1.layers.batch_normalization(h, training=training, axis=1, fused=False,
                                          momentum=0.5)
        h = v1.layers.average_pooling2d(h, 2, 1)
        h = v1.layers.dropout(h, 0.5, training=False)
        h = v1.layers.flatten(h)
        h = v1.layers.dense(h, 3, activation=tf.nn.relu, kernel_regularizer="l2",
                            bias_regularizer="l1")
        return v1.layers.batch_normalization(h, training=training, momentum=0.5)

X = np.random.RandomState(3).uniform(-1, 1, (4, 8, 8, 3)).astype("float32")
"""

GRAPH = graph_case("graph_mode_model_fn", MODEL_FN + """
x = v1.placeholder(tf.float32, [None, 8, 8, 3])
training = v1.placeholder_with_default(False, [])
out = model_fn(x, training)
reg_loss = tf.add_n(v1.losses.get_regularization_losses())
update_ops = v1.get_collection(v1.GraphKeys.UPDATE_OPS)
global_vars = v1.global_variables()
names = [v.op.name for v in global_vars]
with v1.Session() as sess:
    sess.run(v1.global_variables_initializer())
    result["initial"] = dict(zip(names, sess.run(global_vars)))
    result["infer"] = sess.run(out, {x: X})
    result["loss"] = sess.run(reg_loss)
    result["train"] = sess.run([out, update_ops], {x: X, training: True})[0]
    result["after"] = dict(zip(names, sess.run(global_vars)))
result["n_updates"] = len(update_ops)
result["trainable"] = sorted(v.op.name for v in v1.trainable_variables())
result["n_reg_losses"] = len(v1.get_collection(v1.GraphKeys.REGULARIZATION_LOSSES))
""")

LAYER_UPDATES = graph_case("graph_mode_layer_updates", """
x = v1.placeholder(tf.float32, [None, 3])
layer = v1.layers.BatchNormalization()
layer(x, training=True)
collected = v1.get_collection(v1.GraphKeys.UPDATE_OPS)
result["n_updates"] = len(layer.updates)
result["updates_collected"] = all(any(u is c for c in collected) for u in layer.updates)
inference = v1.layers.BatchNormalization()
inference(x, training=False)
result["inference_updates"] = len(inference.updates)
""")


def _model_fn():
    namespace = {"np": np, "tf": tf, "v1": v1}
    exec(MODEL_FN, namespace)
    return namespace["model_fn"], namespace["X"]


class Model(tf.keras.layers.Layer):
    @tf1kit.track_tf1_style_variables
    def call(self, x, training=False):
        return self.model_fn(x, training)


@pytest.fixture(scope="module")
def graph_run():
    return tf1_graph(GRAPH)


@pytest.fixture(scope="module")
def eager_model(graph_run):
    tf1kit.install()
    model_fn, x = _model_fn()
    model = Model()
    model.model_fn = model_fn
    model(x)
    by_name = {v.tf1_name: v for v in model.weights}
    assert sorted(by_name) == sorted(graph_run["initial"])
    for name, value in graph_run["initial"].items():
        by_name[name].assign(value)
    return model, by_name, x


def test_graph_collects_update_ops_and_regularization_losses(graph_run):
    """Facts of TF1's graph, read from the oracle: the eager side must match them."""
    assert graph_run["n_updates"] == 2 * 3  # (mean, variance) per batch norm
    assert graph_run["n_reg_losses"] == 4  # conv2d, pointwise, dense kernel and bias
    assert "model/batch_normalization/moving_mean" not in graph_run["trainable"]


def test_same_variables_and_trainability(graph_run, eager_model):
    model, _, _ = eager_model
    assert sorted(v.tf1_name for v in model.trainable_weights) == graph_run["trainable"]


def test_inference_and_regularization_loss_match(graph_run, eager_model):
    model, _, x = eager_model
    np.testing.assert_allclose(model(x, training=False), graph_run["infer"], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(float(tf.add_n(model.losses)), graph_run["loss"], rtol=1e-6)
    assert len(model.losses) == graph_run["n_reg_losses"]


def test_training_step_and_moving_statistics_match(graph_run, eager_model):
    model, by_name, x = eager_model
    np.testing.assert_allclose(model(x, training=True), graph_run["train"], rtol=1e-5, atol=1e-5)
    for name, value in graph_run["after"].items():
        np.testing.assert_allclose(by_name[name].numpy(), value, rtol=1e-5, atol=1e-6,
                                   err_msg=name)


def test_tf1kit_layers_build_the_same_graph(graph_run):
    """The graph source built by tf1kit's layers: same names, updates and
    losses as TF1's graph; values agree once the initial values agree."""
    ours = tf1kit_graph(GRAPH)
    for key in ("n_updates", "trainable", "n_reg_losses"):
        assert_same(graph_run[key], ours[key], path=key)
    assert sorted(ours["initial"]) == sorted(graph_run["initial"])


def test_graph_layer_updates_property_holds_the_ops():
    assert_same(tf1_graph(LAYER_UPDATES), tf1kit_graph(LAYER_UPDATES))
    assert tf1_graph(LAYER_UPDATES)["n_updates"] == 2


GRAPH_SESSION = graph_case("layers_graph_session", '''
G = v1.glorot_uniform_initializer
graph = tf.Graph()
with graph.as_default(), v1.keras.utils.DeterministicRandomTestTool(
        mode="num_random_ops").scope():
    x = v1.placeholder(tf.float32, [None, 6, 6, 3])
    training = v1.placeholder_with_default(False, [])
    with v1.variable_scope("model"):
        h = v1.layers.conv2d(x, 4, 3, kernel_initializer=G(), kernel_regularizer="l2")
        h = v1.layers.batch_normalization(h, training=training, momentum=0.5)
        h = v1.layers.separable_conv2d(h, 3, 2, depthwise_initializer=G(),
                                       pointwise_initializer=G())
        h = v1.layers.batch_normalization(h, training=training, fused=False, momentum=0.5)
        h = v1.layers.dropout(v1.layers.flatten(h), 0.5, training=training)
        out = v1.layers.dense(h, 2, kernel_initializer=G(), kernel_regularizer="l2")
    reg = tf.add_n(v1.losses.get_regularization_losses())
    updates = v1.get_collection(v1.GraphKeys.UPDATE_OPS)
    names = sorted(v.op.name for v in v1.global_variables())
    with v1.Session(graph=graph) as sess:
        sess.run(v1.global_variables_initializer())
        feed = {x: np.random.RandomState(0).uniform(size=(4, 6, 6, 3))}
        result["infer"] = sess.run(out, feed)
        result["reg"] = sess.run(reg)
        sess.run(updates, {**feed, training: True})
        sess.run(updates, {**feed, training: True})
        # Read the variables themselves: a resource variable's ":0" tensor is its handle.
        variables = v1.global_variables()
        result["after"] = dict(zip([v.op.name for v in variables], sess.run(variables)))
        result["infer_after"] = sess.run(out, feed)
result["names"] = names
result["output_name"] = out.name
result["compute_ops"] = sorted(op.name for op in graph.get_operations()
                               if op.type in ("MatMul", "Conv2D", "FusedBatchNormV3",
                                              "DepthwiseConv2dNative", "BiasAdd"))
result["n_updates"] = len(updates)
result["trainable"] = sorted(v.op.name for v in graph.get_collection("trainable_variables"))
''')


def test_graph_session_matches_tf1_graph():
    """The same TF1 graph code under TF1's own layers (oracle process) and
    under tf1kit.layers: names, update ops, regularization, statistics, outputs."""
    assert_same(tf1_graph(GRAPH_SESSION), tf1kit_graph(GRAPH_SESSION), rtol=1e-5, atol=1e-5)
