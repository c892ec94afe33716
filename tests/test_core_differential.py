"""The shim core against the official shim: same TF1 source, same numbers.

Every case below runs twice: under tf_keras with TF_USE_LEGACY_KERAS=1 (in
one subprocess for the whole session) and here on Keras 3 with tf1kit.
"""

import pytest

from differential import assert_same, case, official, ours

# Shared by every case: TF1 names whatever the Keras version, sorted because
# tf_keras lists a layer's weights by name and Keras 3 by creation order.
HELPERS = """
def tf1_name(v):
    return getattr(v, "path", None) or v.name.split(":")[0]

def by_name(variables):
    return {tf1_name(v): v for v in variables}

def record(result, layer, out=None, prefix=""):
    weights = by_name(layer.weights)
    result[prefix + "names"] = sorted(weights)
    result[prefix + "trainable"] = sorted(tf1_name(v) for v in layer.trainable_weights)
    result[prefix + "values"] = {k: v.numpy() for k, v in weights.items()}
    if out is not None:
        result[prefix + "out"] = out
    losses = layer.losses if hasattr(layer, "losses") else layer.regularization_losses
    result[prefix + "loss_total"] = float(sum(float(l) for l in losses))
"""


def tf1_case(name, body):
    return case(name, HELPERS + body)


GET_VARIABLE = tf1_case("get_variable_layer", """
class DenseLayer(tf.keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    @v1.keras.utils.track_tf1_style_variables
    def call(self, inputs):
        with v1.variable_scope("dense"):
            kernel = v1.get_variable(
                "kernel", [inputs.shape[-1], self.units],
                regularizer=tf.keras.regularizers.L2(0.3),
                initializer=v1.initializers.glorot_normal)
            bias = v1.get_variable("bias", [self.units], initializer=v1.initializers.zeros)
            counter = v1.get_variable("count", [], dtype=tf.int32, trainable=False)
            flag = v1.get_variable("flag", [], dtype=tf.bool, trainable=False)
        return tf.matmul(inputs, kernel) + bias

tool = v1.keras.utils.DeterministicRandomTestTool(mode="num_random_ops")
with tool.scope():
    layer = DenseLayer(4)
    x = tf.random.normal([3, 5])
    out = layer(x)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x) ** 2) + tf.add_n(layer.losses)
    grads = tape.gradient(loss, layer.trainable_weights)
record(result, layer, out)
result["grads"] = {tf1_name(v): g for v, g in zip(layer.trainable_weights, grads)}
result["int_default"] = int(by_name(layer.weights)["dense/count"].numpy())
result["bool_default"] = bool(by_name(layer.weights)["dense/flag"].numpy())
layer(x)
result["count_after_second_call"] = len(layer.weights)
for v in layer.trainable_weights:
    v.assign(tf.zeros_like(v))
layer(x)
result["loss_after_zeroing"] = float(sum(float(l) for l in layer.losses))
""")


SCOPES = tf1_case("scope_semantics", """
class Scoped(tf.keras.layers.Layer):
    @v1.keras.utils.track_tf1_style_variables
    def call(self, x):
        outs = []
        with v1.variable_scope("outer", initializer=v1.constant_initializer(0.5),
                               regularizer=lambda w: 2.0 * tf.reduce_sum(w)):
            for _ in range(2):
                with v1.variable_scope(None, default_name="blk"):
                    outs.append(x * v1.get_variable("w", [1]))
            with v1.variable_scope("shared", reuse=v1.AUTO_REUSE):
                a = v1.get_variable("a", [1])
            with v1.variable_scope("shared", reuse=True):
                b = v1.get_variable("a", [1])
            self.reuse_gave_same_variable = a is b
            with v1.variable_scope("typed", dtype=tf.float64):
                d = v1.get_variable("d", [1])
            with v1.variable_scope("plain", regularizer=None):
                c = v1.get_variable("c", [1], initializer=v1.ones_initializer())
        with v1.variable_scope("getter", custom_getter=lambda getter, name, *a, **k: getter(name + "_wrapped", *a, **k)):
            e = v1.get_variable("e", [1], initializer=v1.ones_initializer())
        with v1.variable_scope("clip", constraint=lambda t: tf.clip_by_value(t, 0.0, 0.1)):
            f = v1.get_variable("f", [1], initializer=v1.ones_initializer())
        outs.append(x * a * b * c * e * f)
        outs.append(tf.cast(d, tf.float32) * x)
        return tf.add_n(outs)

layer = Scoped()
out = layer(tf.ones([1]))
out2 = layer(tf.ones([1]))
record(result, layer, out)
result["out2"] = out2
result["a_is_b"] = layer.reuse_gave_same_variable
result["dtypes"] = {tf1_name(v): tf.as_dtype(v.dtype).name for v in layer.weights}
result["constraint_set"] = sorted(tf1_name(v) for v in layer.weights if getattr(v, "constraint", None) is not None)
""")


NESTED = tf1_case("nested_decorated", """
class Inner(tf.keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    @v1.keras.utils.track_tf1_style_variables
    def __call__(self, x):
        with v1.variable_scope("inner_dense"):
            k = v1.get_variable("kernel", [x.shape[-1], self.units],
                                regularizer=tf.keras.regularizers.L2(0.1))
            b = v1.get_variable("bias", [self.units], initializer=v1.zeros_initializer())
        return tf.matmul(x, k) + b

class Outer(tf.keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = Inner(3)

    @v1.keras.utils.track_tf1_style_variables
    def call(self, x):
        with v1.variable_scope("outer"):
            w = v1.get_variable("w", [x.shape[-1], 4], regularizer=tf.keras.regularizers.L2(0.2))
            return self.inner(tf.matmul(x, w))

tool = v1.keras.utils.DeterministicRandomTestTool(mode="num_random_ops")
with tool.scope():
    layer = Outer()
    x = tf.random.normal([2, 5])
    out = layer(x)
    out = layer(x)
record(result, layer, out)
result["count"] = len(layer.weights)
""")


GET_OR_CREATE = tf1_case("get_or_create_layer", """
class Nested(tf.keras.Model):
    def build_model(self):
        inp = tf.keras.Input(shape=(5,))
        dense = tf.keras.layers.Dense(
            3, name="dense", kernel_regularizer="l2",
            kernel_initializer=tf.keras.initializers.Constant(0.25))
        return tf.keras.Model(inputs=inp, outputs=dense(inp))

    @v1.keras.utils.track_tf1_style_variables
    def call(self, x):
        with v1.variable_scope("head"):
            scale = v1.get_variable("scale", [], initializer=v1.constant_initializer(2.0))
        model = v1.keras.utils.get_or_create_layer("dense_model", self.build_model)
        return model(x) * scale

layer = Nested()
out = layer(tf.ones([2, 5]))
out = layer(tf.ones([2, 5]))
record(result, layer, out)
result["count"] = len(layer.weights)
""")


TEMPLATE = tf1_case("make_template", """
class Templated(tf.keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        def scale(x, scalar_name):
            var = v1.get_variable(scalar_name, shape=[],
                                  regularizer=lambda t: 0.5 * t * t,
                                  initializer=v1.constant_initializer(1.5))
            return x * var
        self.scale_by_y = v1.make_template("scale_by_y", scale, scalar_name="y")

    @v1.keras.utils.track_tf1_style_variables
    def call(self, x):
        with v1.variable_scope("layer"):
            return self.scale_by_y(x) + self.scale_by_y(x)

layer = Templated()
out = layer(tf.ones([2, 3]))
out = layer(tf.ones([2, 3]))
record(result, layer, out)
""")


MODULE = tf1_case("tf_module", """
class Module(tf.Module):
    @v1.keras.utils.track_tf1_style_variables
    def __call__(self, x):
        with v1.variable_scope("m"):
            w = v1.get_variable("w", [x.shape[-1], 2], regularizer=lambda t: tf.reduce_sum(t))
            b = v1.get_variable("b", [2], initializer=v1.zeros_initializer())
            s = v1.get_variable("steps", [], dtype=tf.int64, trainable=False)
        return tf.matmul(x, w) + b

tool = v1.keras.utils.DeterministicRandomTestTool()
with tool.scope():
    m = Module()
    x = tf.random.normal([3, 4])
    out = m(x)
    out = tf.function(m)(x)
result["names"] = sorted(tf1_name(v) for v in m.variables)
result["trainable"] = sorted(tf1_name(v) for v in m.trainable_variables)
result["values"] = {tf1_name(v): v.numpy() for v in m.variables}
result["out"] = out
""")


def _determinism_case(mode):
    return tf1_case(f"determinism_{mode}", f"""
tool = v1.keras.utils.DeterministicRandomTestTool(seed=7, mode="{mode}")
with tool.scope():
    a = tf.random.uniform([3])
    b = tf.random.normal([2, 2])
    c = v1.glorot_uniform_initializer()([4, 3])
    d = v1.truncated_normal_initializer(stddev=0.2)([5])
result["draws"] = [a, b, c, d]
result["operation_seed"] = tool.operation_seed
""")


DETERMINISM = {mode: _determinism_case(mode) for mode in ("constant", "num_random_ops")}


NATIVE_UNDER_TOOL = tf1_case("native_keras_layers_under_the_tool", """
def draw(make_layer, build_shape):
    tool = v1.keras.utils.DeterministicRandomTestTool(mode="num_random_ops")
    with tool.scope():
        layer = make_layer()
        layer.build(build_shape)
    # TF1 drew one random op per randomly initialized weight (kernels; biases are zeros).
    random_weights.append(len([w for w in layer.weights if "kernel" in w.name]))
    return layer.kernel.numpy(), tool.operation_seed

random_weights = []

def tf1_draw(initializer, shape):
    tool = v1.keras.utils.DeterministicRandomTestTool(mode="num_random_ops")
    with tool.scope():
        return initializer(shape).numpy()

dense, dense_seeds = draw(lambda: tf.keras.layers.Dense(3), (1, 4))
conv, conv_seeds = draw(lambda: tf.keras.layers.Conv2D(2, 3), (1, 4, 4, 2))
he, he_seeds = draw(lambda: tf.keras.layers.Dense(2, kernel_initializer="he_normal"), (1, 3))
result["seeds_consumed"] = [dense_seeds, conv_seeds, he_seeds]
result["random_weights"] = random_weights
result["dense_is_tf1_glorot"] = bool(np.allclose(dense, tf1_draw(v1.glorot_uniform_initializer(), [4, 3])))
result["conv_is_tf1_glorot"] = bool(np.allclose(conv, tf1_draw(v1.glorot_uniform_initializer(), [3, 3, 2, 2])))
result["he_is_tf1_he_normal"] = bool(np.allclose(
    he, tf1_draw(v1.variance_scaling_initializer(2.0, "fan_in", "truncated_normal"), [3, 2])))
""")


REUSE_TRUE_EAGER = case("reuse_true_missing_eager", HELPERS + """
class L(tf.keras.layers.Layer):
    @v1.keras.utils.track_tf1_style_variables
    def call(self, x):
        with v1.variable_scope("s", reuse=True):
            return x * v1.get_variable("w", [], initializer=v1.ones_initializer())

layer = L()
result["out"] = layer(tf.ones([2]))
result["names"] = [tf1_name(v) for v in layer.weights]
""", expect_error=True)


REUSE_TRUE_FUNCTION = tf1_case("reuse_true_missing_function", """
class L(tf.keras.layers.Layer):
    @v1.keras.utils.track_tf1_style_variables
    def call(self, x):
        with v1.variable_scope("s", reuse=True):
            return x * v1.get_variable("w", [], initializer=v1.ones_initializer())

try:
    tf.function(L())(tf.ones([2]))
    result["raised"] = "nothing"
except ValueError as exc:
    result["raised"] = "Variable s/w does not exist" in str(exc)
""")


SHAPE_CONFLICT = tf1_case("shape_and_dtype_conflicts", """
class L(tf.keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.shape = [2]
        self.dtype_ = tf.float32

    @v1.keras.utils.track_tf1_style_variables
    def call(self, x):
        with v1.variable_scope("conflict"):
            return x * v1.get_variable("w", self.shape, dtype=self.dtype_)

layer = L()
layer(tf.ones([2]))
layer.shape = [3]
try:
    layer(tf.ones([3]))
except ValueError as exc:
    result["shape_error"] = "conflict/w" in str(exc) and "shape" in str(exc)
layer.shape, layer.dtype_ = [2], tf.int32
try:
    layer(tf.ones([2]))
except ValueError as exc:
    result["dtype_error"] = "conflict/w" in str(exc) and "dtype" in str(exc)
result["count_after_errors"] = len(layer.weights)
""")


PARTITIONER = tf1_case("partitioner_rejected", """
class L(tf.keras.layers.Layer):
    @v1.keras.utils.track_tf1_style_variables
    def call(self, x):
        with v1.variable_scope("part", partitioner=v1.fixed_size_partitioner(2)):
            return x * v1.get_variable("w", [4])

layer = L()
try:
    layer(tf.ones([4]))
    result["raised"] = False
except ValueError:
    result["raised"] = True
result["count"] = len(layer.weights)
""")


LIVE_LOSSES = tf1_case("losses_are_live_without_a_call", """
class L(tf.keras.layers.Layer):
    @v1.keras.utils.track_tf1_style_variables
    def call(self, x):
        return x * v1.get_variable("w", [], regularizer=lambda t: t * t,
                                   initializer=v1.ones_initializer())

layer = L()
layer(tf.ones([1]))
result["before"] = float(layer.losses[0])
layer.weights[0].assign(0.0)
result["after_assign_without_call"] = float(layer.losses[0])
result["count"] = len(layer.losses)
""")


SAVED_LAYER = """
class Saved(tf.keras.layers.Layer):
    @v1.keras.utils.track_tf1_style_variables
    def call(self, x):
        with v1.variable_scope("saved"):
            return tf.matmul(x, v1.get_variable("w", [2, 3])) + v1.get_variable("b", [3])
"""

OBJECT_CHECKPOINT = tf1_case("object_checkpoint_written_by_the_shim", SAVED_LAYER + """
import tempfile

layer = Saved()
layer(tf.ones([1, 2]))
for i, v in enumerate(layer.weights):
    v.assign(tf.fill(v.shape, float(i + 7)))
result["prefix"] = tf.train.Checkpoint(layer=layer).save(tempfile.mkdtemp() + "/ckpt")
result["values"] = {tf1_name(v): v.numpy() for v in layer.weights}
""")


ALL_CASES = [LIVE_LOSSES, GET_VARIABLE, SCOPES, NESTED, GET_OR_CREATE, TEMPLATE, MODULE,
             *DETERMINISM.values(), REUSE_TRUE_FUNCTION,
             SHAPE_CONFLICT, PARTITIONER]


@pytest.mark.parametrize("name", ALL_CASES)
def test_matches_official_shim(name):
    expected = official(name)
    assert "error" not in expected, f"the case itself failed under the official shim: {expected}"
    actual = ours(name)
    assert "error" not in actual, actual["error"]
    assert_same(expected, actual)


def test_reuse_true_on_a_missing_variable_raises_eagerly_unlike_the_official_shim():
    """TF1 raised (graph mode, and tf.function here and in the official shim);
    the official shim creates the variable silently when eager, so a renamed
    scope trains a fresh variable. tf1kit raises TF1's error in eager too."""
    expected, actual = official(REUSE_TRUE_EAGER), ours(REUSE_TRUE_EAGER)
    assert "error" not in expected and expected["names"] == ["s/w"]
    assert actual["error"].startswith("ValueError")
    assert ("Variable s/w does not exist, or was not created with tf.get_variable(). "
            "Did you mean to set reuse=tf.AUTO_REUSE in VarScope?") in actual["error"]


def test_native_keras_layers_draw_through_the_tool_unlike_the_official_shim():
    """Under the official tool (tf_keras 2.21) native layers never ask get_seed for
    a seed (no operation seed consumed): their values come from Keras' own
    generator. tf1kit routes unseeded Keras 3 initializers through TF1's random
    ops, so a native layer starts from exactly the TF1 initializer's values."""
    expected, actual = official(NATIVE_UNDER_TOOL), ours(NATIVE_UNDER_TOOL)
    assert "error" not in expected and "error" not in actual, (expected, actual)
    assert actual["seeds_consumed"] == actual["random_weights"]
    assert actual["dense_is_tf1_glorot"] and actual["conv_is_tf1_glorot"]
    assert actual["he_is_tf1_he_normal"]
    # tf_keras 2.21 consumes none; a fixed tf_keras would consume TF1's count.
    assert all(seeds in (0, weights) for seeds, weights in
               zip(expected["seeds_consumed"], expected["random_weights"]))


def test_object_checkpoint_of_the_official_shim_restores_into_tf1kit():
    """Both keep the store at `_tf1_style_var_store/_vars/<TF1 name>`."""
    import numpy as np
    import tensorflow as tf

    import tf1kit

    expected = official(OBJECT_CHECKPOINT)
    assert "error" not in expected, expected
    tf1kit.install()
    namespace = {"tf": tf, "v1": tf.compat.v1}
    exec(SAVED_LAYER, namespace)
    layer = namespace["Saved"]()
    layer(tf.ones([1, 2]))
    status = tf.train.Checkpoint(layer=layer).restore(expected["prefix"])
    status.assert_existing_objects_matched()
    for v in layer.weights:
        np.testing.assert_array_equal(v.numpy(), expected["values"][v.path])

