"""Tests that kill mutations which once left the whole suite passing
(issue 11, "Tests that cannot fail"); tests/README.md lists each mutation.

Each behaviour is checked against an oracle: TF1 graph mode (`graph_case`,
run where tf1kit cannot be imported), the official shim (`case`), or a
formula computed here.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
import keras

import tf1kit
from differential import (CaseError, assert_same, case, graph_case, official, ours, tf1_graph,
                          tf1kit_graph)

v1 = tf.compat.v1
X = np.arange(12, dtype=np.float32).reshape(4, 3) / 4.0

# -- BatchNormalization: the class's defaults are TF1's ----------------------

BATCH_NORM_DEFAULTS = graph_case("guard_batch_norm_defaults", """
x = tf.constant(np.arange(12, dtype=np.float32).reshape(4, 3) / 4.0)
layer = v1.layers.BatchNormalization(name="bn_object")
y = layer(x, training=True)
z = v1.layers.batch_normalization(x, training=True, name="bn_function")
with v1.Session() as sess:
    sess.run(v1.global_variables_initializer())
    result["out"] = sess.run(y)
    sess.run(v1.get_collection(v1.GraphKeys.UPDATE_OPS))
    result["class_moving"] = sess.run([layer.moving_mean, layer.moving_variance])
    moving = [v for v in v1.global_variables() if v.op.name.startswith("bn_function/")
              and "moving" in v.op.name]
    result["function_moving"] = sess.run(sorted(moving, key=lambda v: v.op.name))
""")


class BatchNormDefaults(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.norm = tf1kit.layers.BatchNormalization(name="bn_object")

    @tf1kit.track_tf1_style_variables
    def call(self, x, training=False):
        out = self.norm(x, training=training)
        tf1kit.layers.batch_normalization(x, training=training, name="bn_function")
        return out


def test_batch_normalization_defaults_update_moving_statistics_as_tf1():
    """Default momentum 0.99 for the class and the function: one training
    step moves the statistics by (1 - 0.99) of the batch's."""
    expected = tf1_graph(BATCH_NORM_DEFAULTS)
    layer = BatchNormDefaults()
    out = layer(X, training=True)
    np.testing.assert_allclose(out.numpy(), expected["out"], rtol=1e-5, atol=1e-5)
    moving = {v.path: v.numpy() for v in layer.weights if "moving" in v.path}
    np.testing.assert_allclose(
        [moving["bn_object/moving_mean"], moving["bn_object/moving_variance"]],
        expected["class_moving"], rtol=1e-6)
    np.testing.assert_allclose(
        [moving["bn_function/moving_mean"], moving["bn_function/moving_variance"]],
        expected["function_moving"], rtol=1e-6)
    batch_mean = X.mean(axis=0)
    np.testing.assert_allclose(moving["bn_object/moving_mean"],
                               (1 - 0.99) * batch_mean, rtol=1e-5)


# -- A TF1 Layer subclass that calls get_variable in `call`, in a TF1 graph ----

SUBCLASS_REUSE = graph_case("guard_graph_subclass_reuse_after_build", """
class Scale(v1.layers.Layer):
    def call(self, x):
        w = v1.get_variable("w", [3], initializer=v1.constant_initializer(2.0))
        return x * w

layer = Scale()
x = tf.constant(np.ones((2, 3), np.float32))
a, b = layer(x), layer(x)
result["names"] = sorted(v.op.name for v in v1.global_variables())
result["weights"] = [v.op.name for v in layer.weights]
with v1.Session() as sess:
    sess.run(v1.global_variables_initializer())
    result["outs"] = sess.run([a, b])
""")


def test_graph_layer_subclass_reuses_its_variables_after_build():
    """After the first call TF1 re-entered the layer's scope with reuse=True,
    so the second call's get_variable returned `scale/w` again."""
    expected = tf1_graph(SUBCLASS_REUSE)
    assert expected["names"] == ["scale/w"]
    assert_same(expected, tf1kit_graph(SUBCLASS_REUSE))


# -- Dropout(seed=): successive applications draw successive seeds -----------

DROPOUT_SEED = case("guard_dropout_seed_sequence", """
class Net(tf.keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.drop = v1.layers.Dropout(0.5, seed=7)

    @v1.keras.utils.track_tf1_style_variables
    def call(self, x):
        return tf.stack([self.drop(x, training=True), self.drop(x, training=True)])

tf.random.set_seed(1)  # no determinism tool: the layer's own seed decides the masks
net = Net()
x = tf.ones([4, 8])
result["first_call"] = net(x)
result["second_call"] = net(x)
""")


def test_dropout_with_a_seed_uses_the_next_seed_on_every_application():
    expected, actual = official(DROPOUT_SEED), ours(DROPOUT_SEED)
    assert_same(expected, actual)
    masks = np.concatenate([actual["first_call"], actual["second_call"]]) != 0
    assert len({m.tobytes() for m in masks}) == 4, "each application draws its own mask"


# -- DeterministicRandomTestTool refuses to reuse an operation seed ----------

SEED_REUSE = case("guard_determinism_seed_reuse", """
tool = v1.keras.utils.DeterministicRandomTestTool(mode="num_random_ops")
with tool.scope():
    tf.random.uniform([2])
    tf.random.uniform([2])
    result["seed_after_two"] = tool.operation_seed
    tool.operation_seed = 1
    try:
        tf.random.uniform([2])
        result["reuse"] = "allowed"
    except ValueError as exc:
        result["reuse"] = "refused" if "operation seed 1" in str(exc) else str(exc)
""")


def test_determinism_tool_refuses_a_used_operation_seed():
    expected, actual = official(SEED_REUSE), ours(SEED_REUSE)
    assert_same(expected, actual)
    assert actual == {"seed_after_two": 2, "reuse": "refused"}


# -- tf.Module owners: live regularization losses, nested layers included -----

class RegularizedModule(tf.Module):
    @tf1kit.track_tf1_style_variables
    def __call__(self, x):
        with v1.variable_scope("m"):
            w = v1.get_variable("w", [3], initializer=v1.constant_initializer(2.0),
                                regularizer=lambda t: 0.1 * tf.reduce_sum(t))
        dense = tf1kit.get_or_create_layer(
            "dense", lambda: keras.layers.Dense(
                2, kernel_initializer="ones", kernel_regularizer=keras.regularizers.L2(0.5)))
        return dense(x * w)


def test_tf_module_regularization_losses_include_nested_layers_and_stay_live():
    module = RegularizedModule()
    module(tf.ones([1, 3]))
    assert "regularization_losses" in dir(type(module))
    w = next(v for v in module.variables if v.name == "m/w:0")
    kernel = tf1kit.decorator.find_store(module).nested_layers["dense"].kernel
    expected = [0.1 * np.sum(w.numpy()), 0.5 * np.sum(kernel.numpy() ** 2)]
    np.testing.assert_allclose([float(l) for l in module.regularization_losses], expected)
    kernel.assign(tf.zeros_like(kernel))
    w.assign([1.0, 1.0, 1.0])
    np.testing.assert_allclose([float(l) for l in module.regularization_losses], [0.3, 0.0])


# -- the differential harness itself ------------------------------------------

BOTH_RAISE = case("guard_harness_both_worlds_raise", """
result["value"] = undefined_helper()  # NameError in both worlds
""")
BOTH_RAISE_EXPECTED = case("guard_harness_expected_error", """
raise ValueError("expected")
""", expect_error=True)


def test_a_case_that_raises_in_both_worlds_fails_unless_it_expects_the_error():
    with pytest.raises(CaseError, match="NameError"):
        official(BOTH_RAISE)
    with pytest.raises(CaseError, match="NameError"):
        ours(BOTH_RAISE)
    assert official(BOTH_RAISE_EXPECTED)["error"] == "ValueError: expected"
    assert ours(BOTH_RAISE_EXPECTED)["error"] == "ValueError: expected"
