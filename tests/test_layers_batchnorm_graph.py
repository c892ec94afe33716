"""Batch normalization beyond float32 eager: half-precision inputs and ghost
batches (`virtual_batch_size`), in TF1 graphs and eagerly."""

import textwrap

import numpy as np

import differential
import tf1kit
from differential import assert_same, case, graph_case, official, ours, tf1_graph


def ours_in_graph(name):
    tf1kit.install()
    return differential._checked(
        name, "tf1kit (graph)", differential.run_source(differential._CASES[name], in_graph=True))


GHOST_SOURCE = '''
x_value = np.random.RandomState(0).uniform(0, 1, (6, 4, 3)).astype("float32")
x = v1.placeholder(tf.float32, [None, 4, 3])
training = v1.placeholder(tf.bool, [])
layer = v1.layers.BatchNormalization(
    momentum=0.8, virtual_batch_size=3,
    gamma_initializer=v1.constant_initializer(3.0), beta_initializer=v1.constant_initializer(2.0))
out = layer(x, training=training)
constant_false = layer(x, training=False)
with v1.Session() as sess:
    sess.run(v1.global_variables_initializer())
    result["train"], _ = sess.run([out, layer.updates], {x: x_value, training: True})
    result["moving"] = sess.run([layer.moving_mean, layer.moving_variance])
    result["infer"] = sess.run(out, {x: x_value, training: False})
    result["infer_constant"] = sess.run(constant_false, {x: x_value})
result["shapes"] = [out.shape.as_list(), layer.moving_mean.shape.as_list(), len(layer.updates)]
result["x"] = x_value
'''
# TF 1.x itself: the oracle's legacy layers take their TF1 code path when the
# TF2 behaviour flag is off (only for this case; it is restored after).
GHOST = graph_case("bn_ghost_placeholder_graph", f"""
from tensorflow.python import tf2 as tf2_flag
tf2_flag.disable()
try:
{textwrap.indent(GHOST_SOURCE, "    ")}
finally:
    tf2_flag.enable()
""")
# The official shim on TF 2 (v2 behaviour on) in the same graph.
GHOST_OFFICIAL = graph_case("bn_ghost_placeholder_graph_tf2_behaviour", GHOST_SOURCE)


def ghost_expected(x, momentum=0.8, virtual=3, gamma=3.0, beta=2.0, epsilon=1e-3):
    """TF1's ghost batch norm: x reshaped to [virtual, batch / virtual, ...];
    each of the batch / virtual groups x[j::...] has its own moments."""
    grouped = x.reshape(virtual, -1, *x.shape[1:])
    means = grouped.mean(axis=(0, 2), keepdims=True)
    variances = grouped.var(axis=(0, 2), keepdims=True)
    train = ((grouped - means) / np.sqrt(variances + epsilon) * gamma + beta).reshape(x.shape)
    moving_mean = (1 - momentum) * means.mean(axis=1, keepdims=True)
    moving_variance = momentum + (1 - momentum) * variances.mean(axis=1, keepdims=True)
    infer = (x - moving_mean[0, 0]) / np.sqrt(moving_variance[0, 0] + epsilon) * gamma + beta
    return train, moving_mean, moving_variance, infer


def test_ghost_batches_with_placeholder_training_in_tf1_graph():
    graph = tf1_graph(GHOST)
    train, moving_mean, moving_variance, infer = ghost_expected(graph["x"])
    np.testing.assert_allclose(graph["train"], train, atol=1e-4)
    np.testing.assert_allclose(graph["moving"][0], moving_mean, atol=1e-5)
    np.testing.assert_allclose(graph["moving"][1], moving_variance, atol=1e-5)
    np.testing.assert_allclose(graph["infer"], infer, atol=1e-4)
    assert_same(graph, ours_in_graph(GHOST), atol=1e-5)


def test_official_shim_on_tf2_does_not_split_a_placeholder_batch():
    """README differences table: with TF2 behaviour on, the official shim
    decides on virtual batches with `if training`, which is False for a
    placeholder, so it normalizes the whole batch; TF 1.x (and tf1kit) split."""
    shim = tf1_graph(GHOST_OFFICIAL)
    x = shim["x"]
    whole = (x - x.mean(axis=(0, 1))) / np.sqrt(x.var(axis=(0, 1)) + 1e-3) * 3.0 + 2.0
    np.testing.assert_allclose(shim["train"], whole, atol=1e-4)
    ghost_train = ghost_expected(x)[0]
    assert not np.allclose(ours_in_graph(GHOST_OFFICIAL)["train"], whole, atol=1e-2)
    np.testing.assert_allclose(ours_in_graph(GHOST_OFFICIAL)["train"], ghost_train, atol=1e-4)


HALF_SOURCE = '''
x_value = np.random.RandomState(1).uniform(-2, 2, (4, 3, 3, 2)).astype("float16")
for label, fused, axis in [("fused", True, -1), ("plain", False, -1), ("plain_axis1", False, 1)]:
    layer = v1.layers.BatchNormalization(fused=fused, axis=axis, momentum=0.5)
    if IN_GRAPH:
        x = v1.placeholder(tf.float16, x_value.shape)
        training = v1.placeholder(tf.bool, [])
        out = layer(x, training=training)
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            train, _ = sess.run([out, layer.updates], {x: x_value, training: True})
            infer = sess.run(out, {x: x_value, training: False})
            moving = sess.run([layer.moving_mean, layer.moving_variance])
    else:
        train = layer(tf.constant(x_value), training=True)
        infer = layer(tf.constant(x_value), training=False)
        moving = [layer.moving_mean, layer.moving_variance]
    result[label] = {"train": np.asarray(train, "float32"), "infer": np.asarray(infer, "float32"),
                     "moving": [np.asarray(m) for m in moving],
                     "out_dtype": str(np.asarray(train).dtype),
                     "variable_dtypes": sorted(set(tf.as_dtype(v.dtype).base_dtype.name
                                                   for v in layer.variables))}
result["x"] = x_value.astype("float32")
'''
HALF_GRAPH = graph_case("bn_float16_graph", "IN_GRAPH = True\n" + HALF_SOURCE)
HALF_EAGER = case("bn_float16_eager", "v1.reset_default_graph()\nIN_GRAPH = False\n"
                  + HALF_SOURCE + "v1.reset_default_graph()\n")


def test_float16_inputs_keep_float32_parameters_in_tf1_graph():
    graph = tf1_graph(HALF_GRAPH)
    x = graph["x"]
    for label in ("fused", "plain"):
        assert graph[label]["variable_dtypes"] == ["float32"]
        assert graph[label]["out_dtype"] == "float16"
        mean, variance = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
        np.testing.assert_allclose(graph[label]["train"],
                                   (x - mean) / np.sqrt(variance + 1e-3), atol=2e-2)
    # the fused kernel averages the unbiased variance, the plain path the biased one
    n = x.size / x.shape[-1]
    np.testing.assert_allclose(graph["fused"]["moving"][1],
                               0.5 + 0.5 * x.var(axis=(0, 1, 2)) * n / (n - 1), atol=1e-3)
    np.testing.assert_allclose(graph["plain"]["moving"][1],
                               0.5 + 0.5 * x.var(axis=(0, 1, 2)), atol=1e-3)
    assert_same(graph, ours_in_graph(HALF_GRAPH), rtol=1e-3, atol=1e-3)


def test_float16_inputs_eagerly_match_official():
    expected = official(HALF_EAGER)
    assert expected["fused"]["variable_dtypes"] == ["float32"]
    assert_same(expected, ours(HALF_EAGER), rtol=1e-3, atol=1e-3)


def test_float16_plain_path_normalizes_in_float16():
    """TF1 took moments in float32 but normalized in the input's dtype."""
    import tensorflow as tf

    layer = tf1kit.layers.BatchNormalization(fused=False, name="half_bn")
    x = tf.constant(np.random.RandomState(2).uniform(-3, 3, (5, 4)).astype("float16"))
    out = layer(x, training=True)
    mean, variance = tf.nn.moments(tf.cast(x, tf.float32), [0])
    expected = tf.nn.batch_normalization(
        x, tf.cast(mean, tf.float16), tf.cast(variance, tf.float16), tf.zeros([4], tf.float16),
        tf.ones([4], tf.float16), 1e-3)
    assert out.dtype == tf.float16 and layer.gamma.dtype == "float32"
    np.testing.assert_array_equal(out.numpy(), expected.numpy())
