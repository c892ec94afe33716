"""dense, dropout, flatten and the object-style layers, against the official shim."""

import pytest

from differential import assert_same, case, official, ours
from layer_case_helpers import layer_case

DENSE = layer_case(case, "layers_dense", '''
def forward(net, x, training):
    h = v1.layers.dense(x, 4, activation=tf.nn.relu, kernel_regularizer="l2",
                        kernel_initializer=GLOROT(),
                        bias_regularizer=tf.keras.regularizers.L1(0.1))
    h = v1.layers.dense(h, 3, use_bias=False, name="named", kernel_initializer=GLOROT())
    h3 = v1.layers.dense(tf.reshape(x, [2, 3, 2]), 2, activation="tanh",
                         kernel_initializer=v1.truncated_normal_initializer(0.0, 0.5))
    return tf.concat([h, tf.reshape(h3, [2, 6])], axis=1)

result.update(run_modes(forward, data(2, 6)))
''')

DENSE_SHARING = layer_case(case, "layers_dense_sharing", '''
def forward(net, x, training):
    a = v1.layers.dense(x, 3, name="shared", kernel_initializer=GLOROT())
    b = v1.layers.dense(x, 3, name="shared", reuse=True)
    with v1.variable_scope("tower", reuse=v1.AUTO_REUSE):
        c = v1.layers.dense(x, 3, name="t", kernel_initializer=GLOROT())
        d = v1.layers.dense(x, 3, name="t")
    e = v1.layers.dense(x, 3, kernel_initializer=GLOROT())
    f = v1.layers.Dense(3, kernel_initializer=GLOROT(), name="obj")(x)
    g = v1.layers.Dense(3, kernel_initializer=GLOROT(), name="obj")(x)
    return tf.concat([a - b, c - d, e, f, g], axis=1)

result.update(run(forward, data(2, 5)))
''')

DROPOUT_FLATTEN = layer_case(case, "layers_dropout_flatten", '''
def forward(net, x, training):
    h = v1.layers.dropout(x, 0.4, training=training)
    g = v1.layers.dropout(x, rate=0.5, noise_shape=[2, 1, 1, 3], training=training)
    k = net.drop(x, training=training) + net.drop(x, training=training)
    flat_last = v1.layers.flatten(h)
    flat_first = v1.layers.flatten(g, data_format="channels_first")
    flat_obj = net.flat(k)
    off = v1.layers.dropout(x, 0.4, training=tf.constant(False))
    return tf.concat([flat_last, flat_first, flat_obj, v1.layers.flatten(off)], axis=1)

def parts():
    return {"drop": v1.layers.Dropout(0.3, seed=7), "flat": v1.layers.Flatten()}

result.update(run_modes(forward, data(2, 2, 4, 3), parts=parts))
''')

OO_STYLE = layer_case(case, "layers_oo_style", '''
class OOStyleCompatModel(tf.keras.layers.Layer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.conv_1 = v1.layers.Conv2D(3, 3, kernel_regularizer="l2",
                                       kernel_initializer=GLOROT())
        self.conv_2 = v1.layers.Conv2D(4, 4, kernel_regularizer="l2",
                                       kernel_initializer=GLOROT())

    @v1.keras.utils.track_tf1_style_variables
    def call(self, inputs, training=None):
        with v1.variable_scope("model"):
            out = self.conv_1(inputs)
            out = self.conv_2(out)
            out = v1.layers.conv2d(out, 5, 5, kernel_regularizer="l2",
                                   kernel_initializer=GLOROT())
            return out

with v1.keras.utils.DeterministicRandomTestTool(mode="num_random_ops").scope():
    layer = OOStyleCompatModel()
    y = layer(tf.ones(shape=(10, 10, 10, 10)))
    y = layer(tf.ones(shape=(10, 10, 10, 10)))
weights = {v.name: v for v in layer.weights}
result["names"] = sorted(v.name for v in layer.weights)
result["kernel_is_attribute"] = weights["model/conv2d/kernel:0"] is layer.conv_1.kernel
result["bias_is_attribute"] = weights["model/conv2d_1/bias:0"] is layer.conv_2.bias
result["output"] = y
result["conv_1_names"] = [v.name for v in layer.conv_1.trainable_variables]
result["n_losses"] = len(layer.losses)
result["loss_total"] = float(tf.add_n(layer.losses))
result["loss_per_kernel"] = float(sum(0.01 * tf.reduce_sum(tf.square(v))
                                     for v in layer.weights if "kernel" in v.name))
''')

DEFAULT_INIT = layer_case(case, "layers_default_initializer", '''
def kernel_of(build):
    with v1.keras.utils.DeterministicRandomTestTool(mode="num_random_ops").scope():
        net = Net(build)
        net(data(2, 3))
        return {v.name: v.numpy() for v in net.weights}["model/dense/kernel:0"]

default_1 = kernel_of(lambda net, x, training: v1.layers.dense(x, 4))
default_2 = kernel_of(lambda net, x, training: v1.layers.dense(x, 4))
explicit = kernel_of(lambda net, x, training: v1.layers.dense(x, 4, kernel_initializer=GLOROT()))
with v1.keras.utils.DeterministicRandomTestTool(mode="num_random_ops").scope():
    plain = v1.get_variable("kernel", [3, 4]).numpy()  # get_variable's own default
result["explicit"] = explicit
result["plain_get_variable"] = plain
result["repeatable"] = bool(np.array_equal(default_1, default_2))
result["default_is_tf1_glorot"] = bool(np.array_equal(default_1, explicit))
''')


@pytest.mark.parametrize("name", [DENSE, DENSE_SHARING, DROPOUT_FLATTEN])
def test_matches_official(name):
    assert_same(official(name), ours(name))


def test_object_style_layers_match_names_values_and_identity():
    expected, actual = official(OO_STYLE), ours(OO_STYLE)
    for key in ("names", "kernel_is_attribute", "bias_is_attribute", "output",
                "conv_1_names", "loss_per_kernel"):
        assert_same(expected[key], actual[key], path=key)
    assert actual["kernel_is_attribute"] and actual["bias_is_attribute"]


def test_object_style_regularization_counted_once_unlike_official():
    """The official shim also reports conv_1/conv_2's losses through the
    nested legacy layers, so each regularized kernel of an attribute layer is
    counted twice (5 losses for 3 kernels). tf1kit counts each once."""
    expected, actual = official(OO_STYLE), ours(OO_STYLE)
    assert expected["n_losses"] == 5
    assert expected["loss_total"] > expected["loss_per_kernel"] * 1.01
    assert actual["n_losses"] == 3
    assert actual["loss_total"] == pytest.approx(actual["loss_per_kernel"], rel=1e-6)


def test_default_kernel_initializer_is_tf1_glorot_drawn_through_get_seed():
    """TF1 drew the default kernel with glorot_uniform through get_seed. The
    official shim uses tf_keras' stateless GlorotUniform seeded from Python's
    `random`, so under DeterministicRandomTestTool its default kernels change
    from one scope (and process) to the next. tf1kit gives TF1's values."""
    expected, actual = official(DEFAULT_INIT), ours(DEFAULT_INIT)
    assert_same(expected["explicit"], actual["explicit"])
    assert_same(expected["plain_get_variable"], actual["plain_get_variable"])
    assert expected["repeatable"] is False and expected["default_is_tf1_glorot"] is False
    assert actual["repeatable"] is True and actual["default_is_tf1_glorot"] is True
    assert_same(actual["explicit"], actual["plain_get_variable"])
