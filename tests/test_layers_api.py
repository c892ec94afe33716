"""The rest of the TF1 layer API: naming, shapes, parameters, config, dtypes,
input specs, per-input losses and updates, copying, and Keras-style layers.

Each behaviour runs three ways where it exists: under the official shim
(eager), in a TF1 graph where tf1kit is absent (the truth), and under tf1kit
(eager and in a graph built from tf1kit's own layers).
"""

import copy
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

import differential
import tf1kit
from differential import assert_same, case, graph_case, official, ours, tf1_graph

v1 = tf.compat.v1


def ours_in_graph(name):
    """tf1kit's result for a graph case: the same source in a TF1 graph here."""
    tf1kit.install()
    result = differential.run_source(differential._CASES[name], in_graph=True)
    return differential._checked(name, "tf1kit (graph)", result)


def fresh(body):
    """Eager source that starts from fresh layer and scope counts, and leaves
    none behind for later tests (in eager code they live in the default graph)."""
    return (f"v1.reset_default_graph()\ntry:\n{textwrap.indent(body, '    ')}\nfinally:\n"
            "    v1.reset_default_graph()\n")


def both_ways(name, body, graph=True):
    """Registers `body` eagerly (official vs tf1kit) and, if `graph`, in a
    TF1 graph (TF1 vs tf1kit)."""
    eager = case(name, fresh(body))
    in_graph = graph_case(name + "_graph", body) if graph else None
    return eager, in_graph


# -- naming ------------------------------------------------------------------
NAMING, NAMING_GRAPH = both_ways("api_naming", '''
x = tf.ones([5, 2])
named = v1.layers.Dense(2, name="my_dense")
first = v1.layers.Dense(2)
result["before_call"] = first.name
first(x)
second = v1.layers.Dense(2)
second(x)
conv = v1.layers.Conv2D(1, 1)
with v1.variable_scope("outer"):
    inner = v1.layers.Dense(2)
    inner(x)
with v1.variable_scope("by_scope") as scope:
    by_scope = v1.layers.Dense(2, name=scope)
by_scope(x)
named(x)
result["names"] = [named.name, first.name, second.name, conv.name, inner.name, by_scope.name]
result["scopes"] = [named.scope_name, first.scope_name, second.scope_name,
                    inner.scope_name, by_scope.scope_name]
result["kernels"] = [layer.kernel.name for layer in (named, first, second, inner, by_scope)]
''')


def test_unnamed_layers_are_numbered_per_graph_from_one_as_tf1():
    """TF1's rule: `name` counts unnamed layers of a class per graph, from 1
    (a named layer does not count); the variable scope is uniquified apart."""
    graph = tf1_graph(NAMING_GRAPH)
    assert graph["names"] == ["my_dense", "dense_1", "dense_2", "conv2d_1", "dense_3",
                              "dense_4"]
    assert graph["scopes"] == ["my_dense", "dense", "dense_1", "outer/dense", "by_scope_1"]
    assert_same(graph, ours_in_graph(NAMING_GRAPH))


def test_naming_matches_official_eagerly():
    assert_same(official(NAMING), ours(NAMING))


def test_name_count_is_per_graph():
    tf1kit.install()
    with tf.Graph().as_default():
        assert v1.layers.Dense(2).name == "dense_1"
        assert v1.layers.Dense(2).name == "dense_2"
    with tf.Graph().as_default():
        assert v1.layers.Dense(2).name == "dense_1"


# -- output shapes -------------------------------------------------------------
SHAPES_BODY = '''
def shape_or_error(layer, input_shape):
    try:
        return layer.compute_output_shape(input_shape).as_list()
    except Exception as exc:
        return type(exc).__name__

L = v1.layers
probes = {
    "dense": (L.Dense(2), [(None, 3), (None, 4, 3), (7, 3)]),
    "dense_bad": (L.Dense(2), [tf.TensorShape(None), tf.TensorShape([]),
                               tf.TensorShape([1]), (None, None)]),
    "flatten": (L.Flatten(), [(1, 2, 3, 2), (None, 3, 2), (None, 3, None), (None,)]),
    "conv2d_valid": (L.Conv2D(3, 3, strides=2), [(None, 9, 8, 2), (4, None, 8, 2)]),
    "conv2d_same_first": (L.Conv2D(3, (3, 2), padding="same", strides=(2, 3),
                                   data_format="channels_first"), [(None, 2, 9, 8)]),
    "conv1d_dilated": (L.Conv1D(4, 3, dilation_rate=2), [(None, 10, 3)]),
    "conv1d_causal": (L.Conv1D(4, 3, padding="causal"), [(2, 10, 3)]),
    "conv3d": (L.Conv3D(2, 2), [(1, 4, 5, 6, 1)]),
    "transpose_valid": (L.Conv2DTranspose(2, 3, strides=2), [(None, 4, 5, 3)]),
    "transpose_same": (L.Conv2DTranspose(2, 3, strides=2, padding="same"),
                       [(None, 4, 5, 3)]),
    "transpose_3d": (L.Conv3DTranspose(2, 2, strides=2), [(1, 2, 3, 4, 1)]),
    "separable": (L.SeparableConv2D(4, 3, depth_multiplier=2), [(None, 6, 7, 3)]),
    "separable_1d": (L.SeparableConv1D(4, 3, strides=2, padding="same"), [(2, 9, 3)]),
    "max_pool": (L.MaxPooling2D(3, 2), [(None, 7, 9, 4)]),
    "avg_pool_same": (L.AveragePooling1D(2, 2, padding="same"), [(None, 7, 4)]),
    "pool_first": (L.MaxPooling3D(2, 2, data_format="channels_first"), [(1, 2, 6, 7, 9)]),
    "batch_norm": (L.BatchNormalization(), [(None, 3, 4)]),
    "dropout": (L.Dropout(0.5), [(None, 5)]),
}
result["computed"] = {key: [shape_or_error(layer, s) for s in shapes]
                      for key, (layer, shapes) in probes.items()}
'''
SHAPES, SHAPES_GRAPH = both_ways("api_output_shapes", SHAPES_BODY)


def test_compute_output_shape_matches_tf1_graph():
    graph = tf1_graph(SHAPES_GRAPH)["computed"]
    assert graph["dense"] == [[None, 2], [None, 4, 2], [7, 2]]
    assert graph["dense_bad"] == ["ValueError"] * 4
    assert_same(graph, ours_in_graph(SHAPES_GRAPH)["computed"])


def test_compute_output_shape_matches_official():
    assert_same(official(SHAPES), ours(SHAPES))


@pytest.mark.parametrize("layer_class, arguments, input_shape", [
    ("Dense", (3,), (2, 4, 5)),
    ("Flatten", (), (2, 3, 4)),
    ("Conv2D", (3, 3, 2, "valid"), (1, 9, 8, 2)),
    ("Conv2D", (3, (3, 2), (2, 3), "same", "channels_first"), (1, 2, 9, 8)),
    ("Conv1D", (4, 3, 1, "causal"), (2, 10, 3)),
    ("Conv2DTranspose", (2, 3, 2), (1, 4, 5, 3)),
    ("Conv2DTranspose", (2, 3, 2, "same"), (1, 4, 5, 3)),
    ("SeparableConv2D", (4, 3), (1, 6, 7, 3)),
    ("MaxPooling2D", (3, 2), (1, 7, 9, 4)),
    ("AveragePooling1D", (2, 2, "same"), (1, 7, 4)),
])
def test_compute_output_shape_agrees_with_the_call(layer_class, arguments, input_shape):
    layer = getattr(tf1kit.layers, layer_class)(*arguments, name=f"probe_{layer_class}")
    predicted = layer.compute_output_shape(input_shape)
    assert predicted.as_list() == list(layer(tf.ones(input_shape)).shape)


def test_compute_output_shape_traces_layers_without_their_own():
    class Halve(tf1kit.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight("w", [int(input_shape[-1]), 2])

        def call(self, x):
            return tf.matmul(x[:, ::2], self.w[::2])

    layer = Halve()
    assert layer.compute_output_shape((None, 6)).as_list() == [None, 2]
    assert layer.built and [v.name for v in layer.weights] == ["halve/w:0"]
    assert layer.losses == []
    with tf.Graph().as_default(), pytest.raises(NotImplementedError, match="Halve"):
        Halve().compute_output_shape((None, 6))  # TF1 graphs did not trace


# -- parameters and config ------------------------------------------------------
CONFIG_BODY = '''
L = v1.layers
dense = L.Dense(16)
dense.build((None, 4))
result["count_dense"] = dense.count_params()
conv = L.Conv2D(3, 2, use_bias=False)
conv(tf.ones([1, 4, 4, 5]))
bn = L.BatchNormalization()
bn(tf.ones([2, 6]))
result["count_conv_bn"] = [conv.count_params(), bn.count_params()]
try:
    L.Dense(2, name="unbuilt").count_params()
except Exception as exc:
    result["unbuilt"] = [type(exc).__name__, "unbuilt" in str(exc), "isn't built" in str(exc)]

def plain(config):
    """Drops what only Keras 2 reports (`groups`) and object values."""
    out = {}
    for key, value in config.items():
        if key == "groups":
            continue
        if key.endswith("_initializer"):
            value = "<initializer>"  # Keras 2 serializes its own defaults
        if isinstance(value, tuple):
            value = list(value)
        simple = value is None or isinstance(value, (str, int, float, bool, list))
        out[key] = value if simple else "<object>"
    return out

layers = {
    "dense": L.Dense(3, activation=tf.nn.relu, name="d", use_bias=False),
    "dense_unnamed": L.Dense(3),
    "conv1d": L.Conv1D(4, 3, padding="causal", dilation_rate=2),
    "conv2d": L.Conv2D(4, (3, 2), strides=2, data_format="channels_first"),
    "conv3d": L.Conv3D(2, 2, activation="relu"),
    "transpose2d": L.Conv2DTranspose(2, 3, strides=2, padding="same"),
    "transpose3d": L.Conv3DTranspose(2, 3),
    "separable1d": L.SeparableConv1D(2, 3, depth_multiplier=2),
    "separable2d": L.SeparableConv2D(2, 3, padding="same"),
    "max_pool": L.MaxPooling2D(2, 1, padding="same"),
    "avg_pool": L.AveragePooling3D(2, 2, data_format="channels_first"),
    "batch_norm": L.BatchNormalization(axis=1, momentum=0.9, center=False),
    "renorm": L.BatchNormalization(renorm=True, renorm_momentum=0.5,
                                   renorm_clipping={"rmax": 2.0}),
    "ghost": L.BatchNormalization(virtual_batch_size=2),
    "dropout": L.Dropout(0.3, noise_shape=[None, 1], seed=3),
    "flatten": L.Flatten(data_format="channels_first"),
}
result["config"] = {key: plain(layer.get_config()) for key, layer in layers.items()}
'''
CONFIG = case("api_count_params_config", fresh(CONFIG_BODY))


def test_count_params_and_config_match_official():
    assert official(CONFIG)["count_dense"] == 16 * 4 + 16
    assert official(CONFIG)["count_conv_bn"] == [2 * 2 * 5 * 3, 4 * 6]
    assert_same(official(CONFIG), ours(CONFIG))


def test_from_config_makes_an_equivalent_layer():
    tf1kit.install()
    layer = v1.layers.Conv2D(4, 3, strides=2, padding="same", activation="relu",
                             kernel_regularizer="l2", name="c")
    clone = v1.layers.Conv2D.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    x = tf.ones([1, 5, 5, 2])
    assert clone(x).shape == layer(x).shape == (1, 3, 3, 4)
    assert {clone.scope_name, layer.scope_name} == {"c", "c_1"} and len(clone.losses) == 1


# -- dtypes ---------------------------------------------------------------------
DTYPES_BODY = '''
class Identity(v1.layers.Layer):
    def call(self, inputs):
        return inputs

def const(dtype):
    return tf.constant(1, dtype=dtype)

seen = {}
for label, first, then in [("float64", const("float64"), const("float16")),
                           ("numpy", np.array(1.0, dtype="float64"), None),
                           ("int32", const("int32"), None),
                           ("int64", const("int64"), None),
                           ("list", [const("float32"), const("float64")], None)]:
    layer = Identity()
    seen[label] = [layer.dtype]
    layer(first)
    if then is not None:
        layer(then)
    seen[label].append(layer.dtype)
for given in ("float64", "int32", tf.float64):
    layer = Identity(dtype=given)
    out = layer(const("float32"))
    seen[f"given_{given!r}"] = [layer.dtype, out.dtype.name]  # inputs are not cast
dense = v1.layers.Dense(2)
dense(tf.ones([1, 3], tf.float64))
seen["dense_float64"] = [dense.dtype, dense.kernel.dtype.name]
result.update(seen)
'''
DTYPES, DTYPES_GRAPH = both_ways("api_dtypes", DTYPES_BODY)


def test_layer_dtype_is_the_first_inputs_as_tf1():
    graph = tf1_graph(DTYPES_GRAPH)
    assert graph["int32"] == [None, "int32"]
    assert graph["float64"] == [None, "float64"]
    assert_same(graph, ours_in_graph(DTYPES_GRAPH))


def test_layer_dtype_matches_official():
    assert_same(official(DTYPES), ours(DTYPES))


# -- input specs ----------------------------------------------------------------
INPUT_SPEC = case("api_input_spec", fresh('''
def spec_layer(**spec):
    class Checked(v1.layers.Layer):
        def __init__(self):
            super().__init__()
            self.input_spec = v1.layers.InputSpec(**spec)
    return Checked()

attempts = {
    "shape_bad": ({"shape": (None, 3)}, tf.constant([[1, 2]])),
    "shape_ok": ({"shape": (None, 3)}, tf.constant([[1, 2, 3], [4, 5, 6]])),
    "shape_rank": ({"shape": (None, 3)}, tf.constant([1, 2, 3])),
    "ndim": ({"ndim": 2}, tf.constant([1])),
    "min_ndim": ({"min_ndim": 2}, tf.constant([1])),
    "max_ndim": ({"max_ndim": 2}, tf.constant([[[1], [2]]])),
    "dtype": ({"dtype": "float32"}, tf.constant(1, dtype=tf.int32)),
    "axes": ({"axes": {-1: 2}}, tf.constant([1, 2, 3])),
    "axes_ok": ({"axes": {-1: 2}}, tf.constant([[1, 2], [3, 4]])),
}
for label, (spec, value) in attempts.items():
    try:
        spec_layer(**spec)(value)
        result[label] = "no error"
    except ValueError as exc:
        words = ("expected shape", "expected ndim", "expected min_ndim",
                 "expected max_ndim", "expected dtype", "expected axis")
        result[label] = [word for word in words if word in str(exc)]
'''))


def test_input_spec_checks_match_official():
    expected = official(INPUT_SPEC)
    assert expected["shape_bad"] == ["expected shape"]
    assert expected["shape_ok"] == "no error"
    assert_same(expected, ours(INPUT_SPEC))


# -- per-input losses and updates (TF1 graph) ------------------------------------
LOSSES_UPDATES = graph_case("api_losses_updates_graph", '''
class Counting(v1.layers.Layer):
    def build(self, input_shape):
        self.a = self.add_weight("a", (), tf.float32, trainable=False)
        self.b = self.add_weight("b", (), tf.float32, trainable=False)
        self.add_update(v1.assign_add(self.a, 1.0, name="build_update"))
        self.add_loss(self.a)
        self.built = True

    def call(self, inputs):
        self.add_update(v1.assign_add(self.a, inputs, name="call_update"))
        self.add_loss(inputs * 2.0, inputs=True)
        return inputs + 1

layer = Counting()
for call in range(2):
    x = v1.placeholder(tf.float32, (), "x")
    shifted = x + 1
    out = layer(shifted)
    result[f"call{call}"] = [
        len(layer.updates), len(layer.get_updates_for(None)),
        len(layer.get_updates_for([x])), len(layer.get_updates_for([shifted])),
        len(layer.get_updates_for([out])),
        len(layer.losses), len(layer.get_losses_for(None)),
        len(layer.get_losses_for([x])), len(layer.get_losses_for([shifted])),
        len(layer.get_losses_for([out]))]
result["reg_collection"] = len(v1.get_collection(v1.GraphKeys.REGULARIZATION_LOSSES))
result["update_collection"] = len(v1.get_collection(v1.GraphKeys.UPDATE_OPS))

activity = v1.layers.Layer(activity_regularizer=tf.reduce_sum)
ints = v1.placeholder("int32")
activity(ints)
result["activity"] = [len(activity.get_losses_for(ints)), len(activity.get_losses_for(None)),
                      len(activity.losses)]
with v1.Session() as sess:
    sess.run(v1.global_variables_initializer())
    result["activity_value"] = sess.run(activity.losses[0], {ints: [[1, 2], [3, 4]]})
''')


def test_losses_and_updates_per_input_match_tf1_graph():
    graph = tf1_graph(LOSSES_UPDATES)
    # updates: all, unconditional, from x, from x+1, from the output
    assert graph["call0"] == [2, 1, 1, 1, 0, 2, 1, 1, 1, 0]
    assert graph["call1"] == [3, 1, 1, 1, 0, 3, 1, 1, 1, 0]
    assert graph["activity_value"] == 10 / 2  # sum / batch size
    assert_same(graph, ours_in_graph(LOSSES_UPDATES))


def test_eager_losses_are_the_last_calls_and_tell_conditional_apart():
    class Penalized(tf1kit.layers.Layer):
        def call(self, inputs):
            self.add_loss(tf.reduce_sum(inputs), inputs=True)
            self.add_loss(lambda: tf.constant(0.5))  # unconditional
            return inputs

    layer = Penalized(activity_regularizer=lambda t: 3.0 * tf.reduce_sum(t))
    layer(tf.fill([2, 2], 2.0))
    layer(tf.ones([4, 2]))  # the first call's losses are gone
    assert [float(loss) for loss in layer.losses] == [8.0, 0.5, 3.0 * 8 / 4]
    assert [float(loss) for loss in layer.get_losses_for(None)] == [0.5]
    assert [float(loss) for loss in layer.get_losses_for(tf.ones([4, 2]))] == [8.0, 6.0]
    assert layer.get_updates_for(None) == []


# -- copying and big batches (TF1 graph) -------------------------------------------
COPY_FLATTEN = graph_case("api_deepcopy_flatten_graph", '''
import copy

class Square(v1.layers.Layer):
    def call(self, inputs):
        return tf.square(inputs)

layer = Square(name="my_layer")
layer._private_tensor = tf.random.uniform(())
out = layer(tf.ones([5]))
clone = copy.deepcopy(layer)
result["copy"] = [clone.name, clone._scope.name, clone._private_tensor is layer._private_tensor,
                  clone.built, out.op.name, clone(tf.ones([2])).op.name]
big = np.iinfo(np.int32).max + 10
result["flatten_big_batch"] = v1.layers.Flatten()(
    v1.placeholder(tf.float32, (big, None, None, 1))).shape.as_list()
result["flatten_big_inner"] = v1.layers.Flatten()(
    v1.placeholder(tf.float32, (None, 21316, 21316, 80))).shape.as_list()
x = v1.placeholder(tf.float32, (5, None, 2))
flat = v1.layers.Flatten()(x)
with v1.Session() as sess:
    result["flatten_unknown"] = [flat.shape.as_list(),
                                 list(sess.run(flat, {x: np.zeros((5, 3, 2))}).shape)]
''')


def test_deepcopy_with_graph_tensor_and_large_flatten_match_tf1_graph():
    graph = tf1_graph(COPY_FLATTEN)
    assert graph["flatten_big_batch"] == [np.iinfo(np.int32).max + 10, None]
    assert_same(graph, ours_in_graph(COPY_FLATTEN))


def test_deepcopy_shares_variables_and_copies_configuration():
    layer = tf1kit.layers.Dense(3, name="d")
    layer(tf.ones([1, 2]))
    clone = copy.deepcopy(layer)
    assert clone.kernel is layer.kernel and clone.units == 3
    assert clone._scope is not layer._scope and clone._scope.name == "d"
    clone.units = 5
    assert layer.units == 3
    np.testing.assert_allclose(clone(tf.ones([1, 2])), layer(tf.ones([1, 2])))


# -- tf.Module owner: activity regularization -------------------------------------
def test_activity_losses_of_functional_layers_reach_a_module_owner():
    tf1kit.install()

    class Module(tf.Module):
        @tf1kit.track_tf1_style_variables
        def __call__(self, x, regularize=True):
            activity = (lambda t: tf.reduce_sum(t * t)) if regularize else None
            h = v1.layers.dense(x, 2, kernel_regularizer=keras.regularizers.L2(0.5),
                                activity_regularizer=activity)
            return v1.layers.dense(h, 1, activity_regularizer=(
                (lambda t: tf.reduce_sum(t)) if regularize else None))

    module = Module()
    x = tf.constant([[1.0, 2.0, 3.0], [0.5, 0.0, -1.0]])
    out = module(x)
    by_shape = {v.shape: v.numpy() for v in module.variables}
    kernel, bias = by_shape[(3, 2)], by_shape[(2,)]
    hidden = x.numpy() @ kernel + bias
    expected = [0.5 * np.sum(kernel ** 2), np.sum(hidden ** 2) / 2, np.sum(out.numpy()) / 2]
    np.testing.assert_allclose([float(l) for l in module.regularization_losses], expected,
                               rtol=1e-5)
    second = module(x[:1])  # the next call replaces the activity losses
    hidden = x.numpy()[:1] @ kernel + bias
    expected = [0.5 * np.sum(kernel ** 2), np.sum(hidden ** 2), np.sum(second.numpy())]
    np.testing.assert_allclose([float(l) for l in module.regularization_losses], expected,
                               rtol=1e-5)
    module(x, regularize=False)  # a call without activity losses leaves none behind
    np.testing.assert_allclose([float(l) for l in module.regularization_losses],
                               [0.5 * np.sum(kernel ** 2)], rtol=1e-5)


# -- jit_compile --------------------------------------------------------------------
def test_fit_with_jit_compile_trains_like_without_it():
    tf1kit.install()

    class Net(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x, training=None):
            h = v1.layers.conv2d(x, 4, 3, padding="same", kernel_regularizer="l2")
            h = v1.layers.batch_normalization(h, training=training)
            h = v1.layers.batch_normalization(h, training=training, fused=False)
            h = v1.layers.max_pooling2d(h, 2, 2)
            return v1.layers.dense(v1.layers.flatten(h), 2,
                                   activity_regularizer=lambda t: 1e-3 * tf.reduce_sum(t * t))

    data = np.random.RandomState(0).rand(8, 6, 6, 3).astype("float32")
    target = np.random.RandomState(1).rand(8, 2).astype("float32")
    trained = {}
    for jit in (False, True):
        inputs = keras.Input((6, 6, 3))
        model = keras.Model(inputs, Net()(inputs))
        model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse", jit_compile=jit)
        if jit:
            model.set_weights(start)
        else:
            start = model.get_weights()
        history = model.fit(data, target, batch_size=4, epochs=2, shuffle=False, verbose=0)
        trained[jit] = (history.history["loss"], model.get_weights())
    assert not np.allclose(start[0], trained[True][1][0])  # it trained
    np.testing.assert_allclose(trained[True][0], trained[False][0], rtol=1e-4)
    for with_jit, without in zip(trained[True][1], trained[False][1]):
        np.testing.assert_allclose(with_jit, without, rtol=1e-4, atol=1e-5)


# -- Keras-style layers -----------------------------------------------------------------
KERAS_STYLE = case("api_keras_style", fresh('''
style = v1.layers.experimental
with style.keras_style_scope():
    first, second = v1.layers.Dense(2), v1.layers.Dense(2)
    attempts = {"reuse": lambda: v1.layers.Dense(2, _reuse=True),
                "named_functional": lambda: v1.layers.dense(tf.ones([1, 2]), 2, name="f"),
                "call_scope": lambda: first(tf.ones([1, 3]), scope="s")}
    for label, attempt in attempts.items():
        try:
            attempt()
            result[label] = "no error"
        except ValueError as exc:
            result[label] = "not allowed when keras style" in str(exc)
result["names"] = [first.name, second.name]
result["after_scope"] = v1.layers.Dense(2).name

class Net(tf.keras.layers.Layer):
    def __init__(self):
        super().__init__()
        with style.keras_style_scope():
            self.a = v1.layers.Dense(2, kernel_initializer=v1.ones_initializer())
            self.b = v1.layers.Dense(2, kernel_initializer=v1.ones_initializer())

    @v1.keras.utils.track_tf1_style_variables
    def call(self, x):
        with v1.variable_scope("model", reuse=v1.AUTO_REUSE):
            return self.a(x) + self.b(x) + v1.layers.dense(x, 2, name="tf1_style")

net = Net()
x = tf.ones([1, 3])
net(x)
net(x)
result["n_weights"] = len(net.weights)
result["distinct_kernels"] = net.a.kernel is not net.b.kernel
result["tracked"] = sum(any(w is v for w in net.weights) for v in net.a.weights + net.b.weights)
'''))


def test_keras_style_scope_matches_official():
    """Variable names inside the scope differ (Keras 2 names them by name
    scope, tf1kit by the layer's unique name); everything else agrees."""
    expected = official(KERAS_STYLE)
    assert expected["n_weights"] == 6 and expected["tracked"] == 4
    assert_same(expected, ours(KERAS_STYLE))


def test_keras_style_layers_never_share_and_train_in_fit():
    tf1kit.install()

    class Net(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            with v1.layers.experimental.keras_style_scope():
                self.hidden = [v1.layers.Dense(3, name="same") for _ in range(2)]

        @tf1kit.track_tf1_style_variables
        def call(self, x):
            with v1.variable_scope("outer", reuse=True):  # would share TF1-style
                return self.hidden[1](self.hidden[0](x))

    inputs = keras.Input((3,))
    model = keras.Model(inputs, Net()(inputs))
    names = [v.name for v in model.weights]
    assert names == ["outer/same/kernel:0", "outer/same/bias:0",
                     "outer/same_1/kernel:0", "outer/same_1/bias:0"], names
    before = [w.numpy() for w in model.weights]
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((4, 3)), np.zeros((4, 3)), verbose=0)
    assert all(not np.allclose(b, w.numpy()) for b, w in zip(before, model.weights))


def test_set_keras_style_is_global_and_refuses_scope_arguments():
    import tf1kit.layers.experimental as style

    try:
        style.set_keras_style()
        layer = tf1kit.layers.Dense(2)
        assert layer._keras_style
        with pytest.raises(ValueError, match="scope argument not allowed"):
            tf1kit.layers.Dense(2, _scope="x")
    finally:
        style._forever = False  # the process is shared with other tests
    assert not tf1kit.layers.Dense(2)._keras_style


SYNC_ON_READ = case("api_sync_on_read_trainable", fresh('''
try:
    v1.layers.Layer(name="my_layer").add_weight(
        "v", [2, 2], initializer=v1.zeros_initializer(), trainable=True,
        synchronization=tf.VariableSynchronization.ON_READ)
except ValueError as exc:
    result["message"] = str(exc)
'''))


def test_add_weight_refuses_trainable_on_read_with_tf1s_message():
    """TF1's sentence, prefixed with the variable at fault."""
    expected = official(SYNC_ON_READ)["message"]
    assert "VariableSynchronization.ON_READ only for non-trainable" in expected
    assert ours(SYNC_ON_READ)["message"] == f"add_weight('v'): {expected}"
