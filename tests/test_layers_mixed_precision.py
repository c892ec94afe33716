"""TF1 layers under Keras 3's global mixed-precision policy.

tf1kit: float32 variables, computation in the policy's dtype (float16 or
bfloat16), batch norm parameters and statistics in float32. The official
shim under Keras 2's policy infers each legacy layer's dtype from its
(already cast) input, so its dense and conv variables are float16 themselves
(README differences table); batch norm agrees.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tf1kit
from differential import case, official, ours

v1 = tf.compat.v1
POLICIES = ("mixed_float16", "mixed_bfloat16")

MODEL = '''
class Net(tf.keras.layers.Layer):
    @v1.keras.utils.track_tf1_style_variables
    def call(self, x, training=False):
        with v1.variable_scope("net"):
            h = v1.layers.conv2d(x, 4, 3, padding="same", name="conv")
            h = v1.layers.batch_normalization(h, training=training, name="fused_bn")
            h = v1.layers.batch_normalization(h, training=training, fused=False,
                                              name="plain_bn")
            h = v1.layers.flatten(v1.layers.max_pooling2d(h, 2, 2))
            return v1.layers.dense(h, 3, name="head")
'''

DTYPE_CASES = {policy: case(f"mixed_precision_dtypes_{policy}", MODEL + f'''
v1.reset_default_graph()
tf.keras.mixed_precision.set_global_policy("{policy}")
try:
    net = Net()
    x = tf.constant(np.random.RandomState(0).uniform(-1, 1, (4, 4, 4, 3)), tf.float32)
    result["train_out"] = net(x, training=True).dtype.name
    result["infer_out"] = net(x, training=False).dtype.name
    result["variables"] = {{v.name: tf.as_dtype(v.dtype).name for v in net.weights}}
finally:
    tf.keras.mixed_precision.set_global_policy("float32")
    v1.reset_default_graph()
''') for policy in POLICIES}


@pytest.fixture
def policy(request):
    keras.mixed_precision.set_global_policy(request.param)
    try:
        yield request.param
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("name", POLICIES)
def test_variables_are_float32_and_outputs_in_the_compute_dtype(name):
    compute = name.split("_")[1]
    result = ours(DTYPE_CASES[name])
    assert result["train_out"] == result["infer_out"] == compute
    assert set(result["variables"].values()) == {"float32"}
    assert len(result["variables"]) == 2 + 2 * 4 + 2


@pytest.mark.parametrize("name", POLICIES)
def test_official_shim_makes_half_precision_dense_and_conv_variables(name):
    """The one difference: batch norm agrees, dense/conv variable dtypes differ."""
    compute = name.split("_")[1]
    theirs, mine = official(DTYPE_CASES[name]), ours(DTYPE_CASES[name])
    assert theirs["train_out"] == theirs["infer_out"] == compute
    assert sorted(theirs["variables"]) == sorted(mine["variables"])
    for variable, dtype in theirs["variables"].items():
        if "_bn/" in variable:
            assert dtype == mine["variables"][variable] == "float32", variable
        else:
            assert dtype == compute, variable


class Dense(keras.layers.Layer):
    @tf1kit.track_tf1_style_variables
    def call(self, x):
        return tf1kit.layers.dense(x, 3, activation=tf.nn.relu, name="d")


@pytest.mark.parametrize("policy", POLICIES, indirect=True)
@pytest.mark.parametrize("owner", ["decorated", "standalone"])
def test_dense_computes_in_the_compute_dtype(policy, owner):
    compute = tf.as_dtype(policy.split("_")[1])
    layer = Dense() if owner == "decorated" else tf1kit.layers.Dense(
        3, activation=tf.nn.relu, name="mixed_dense")
    x = tf.constant(np.random.RandomState(1).uniform(-1, 1, (2, 5)), tf.float32)
    out = layer(x)
    kernel, bias = layer.weights
    assert kernel.dtype == bias.dtype == "float32"
    expected = tf.nn.relu(tf.matmul(tf.cast(x, compute), tf.cast(kernel, compute))
                          + tf.cast(bias, compute))
    assert out.dtype == compute
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


@pytest.mark.parametrize("policy", POLICIES, indirect=True)
@pytest.mark.parametrize("fused", [True, False])
def test_batch_norm_keeps_float32_statistics(policy, fused):
    compute = tf.as_dtype(policy.split("_")[1])
    layer = tf1kit.layers.BatchNormalization(fused=fused, momentum=0.5, name="mixed_bn")
    x = tf.constant(np.random.RandomState(2).uniform(0, 4, (4, 2, 2, 3)), tf.float32)
    out = layer(x, training=True)
    assert out.dtype == compute
    assert {tf.as_dtype(v.dtype) for v in layer.weights} == {tf.float32}
    half = tf.cast(tf.cast(x, compute), tf.float32).numpy()  # what the layer saw
    n = half.size / 3
    variance = half.var(axis=(0, 1, 2)) * (n / (n - 1) if fused else 1.0)
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.5 * half.mean(axis=(0, 1, 2)),
                               rtol=1e-5)
    np.testing.assert_allclose(layer.moving_variance.numpy(), 0.5 + 0.5 * variance, rtol=1e-5)
    normalized = (half - half.mean(axis=(0, 1, 2))) / np.sqrt(half.var(axis=(0, 1, 2)) + 1e-3)
    np.testing.assert_allclose(out.numpy().astype("float32"), normalized, atol=5e-2)


@pytest.mark.parametrize("policy", POLICIES, indirect=True)
@pytest.mark.parametrize("jit", [False, True])
def test_fit_trains_float32_variables(policy, jit):
    class Net(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x, training=None):
            h = tf1kit.layers.conv2d(x, 4, 3, padding="same", kernel_regularizer="l2")
            h = tf1kit.layers.batch_normalization(h, training=training)
            h = tf1kit.layers.batch_normalization(h, training=training, fused=False)
            h = tf1kit.layers.dropout(h, 0.2, training=training)
            return tf1kit.layers.dense(
                tf1kit.layers.flatten(h), 2,
                activity_regularizer=lambda t: 1e-3 * tf.reduce_sum(t * t))

    inputs = keras.Input((4, 4, 3))
    net = Net()
    model = keras.Model(inputs, keras.layers.Activation("linear", dtype="float32")(net(inputs)))
    optimizer = keras.optimizers.SGD(0.01)
    if policy == "mixed_float16":
        # Keras' default loss scale (2**15) skips the first steps on overflow.
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer, initial_scale=1.0)
    model.compile(optimizer=optimizer, loss="mse", jit_compile=jit)
    before = {v.name: v.numpy() for v in model.weights}
    x = np.random.RandomState(3).uniform(0, 1, (8, 4, 4, 3)).astype("float32")
    history = model.fit(x, np.zeros((8, 2), "float32"), batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert {tf.as_dtype(v.dtype) for v in model.weights} == {tf.float32}
    changed = {v.name for v in model.weights if not np.allclose(before[v.name], v.numpy())}
    assert changed == set(before), set(before) - changed  # kernels, biases, gammas, statistics
    assert len(net.losses) == 2  # kernel L2 and the float32 activity loss
    assert {loss.dtype for loss in net.losses} == {tf.float32}


def test_graph_mode_ignores_the_policy():
    """TF1 graphs had no Keras policy: the layer keeps TF1's dtype rules."""
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        with tf.Graph().as_default():
            layer = tf1kit.layers.Dense(2)
            out = layer(v1.placeholder(tf.float32, [None, 3]))
            assert out.dtype == tf.float32 and layer.kernel.dtype.base_dtype == tf.float32
    finally:
        keras.mixed_precision.set_global_policy("float32")
