"""TF 1.x fidelity, last gaps: scope counters, collections, eager reuse,
`v.value()` under mixed precision, Saver dicts, the official store's surface.

Truth is TF 1.x: a TF1 graph built in the oracle process where tf1kit cannot
be imported (`graph_case` + `tf1_graph`), or TF1's documented eager behaviour
where the official shim agrees with it (`case` + `official`).
"""

import numpy as np
import pytest
import tensorflow as tf

import tf1kit
from differential import (CaseError, artifacts, assert_same, case, graph_case, official,
                          ours, run_source, tf1_graph)

def ours_in_graph(source: str) -> dict:
    """`source` here, after tf1kit.install(), inside a fresh tf.Graph."""
    tf1kit.install()
    result = run_source(source, in_graph=True)
    if "error" in result:
        raise CaseError(f"tf1kit raised in a TF1 graph: {result['error']}\n"
                        f"{result['traceback']}")
    return result


def run_here(source: str) -> dict:
    tf1kit.install()
    result = run_source(source)
    if "error" in result:
        raise CaseError(f"tf1kit raised: {result['error']}\n{result['traceback']}")
    return result


# -- scope counters: each outermost call names as a graph of its own ---------

# The forward pass a TF1 model ran once, in its own graph: unnamed layers and
# default-named scopes, a moving average (its shadow variable is created
# through get_variable("") in the scope "<var>/ExponentialMovingAverage").
FORWARD = '''
def forward(x):
    h = v1.layers.dense(x, 2)
    h = v1.layers.dense(h, 2)
    with v1.variable_scope(None, default_name="block"):
        w = v1.get_variable("w", [2], initializer=v1.ones_initializer())
    with v1.variable_scope(None, default_name="block"):
        u = v1.get_variable("u", [2], initializer=v1.ones_initializer())
    ema = v1.train.ExponentialMovingAverage(0.5)
    update = ema.apply([w])
    return h * w * u, update, ema.average(w)
'''

NAMING_GRAPH = graph_case("fidelity_naming_graph", FORWARD + '''
x = v1.placeholder(tf.float32, [None, 3])
forward(x)
result["names"] = sorted(v.name for v in v1.global_variables())
''')

NAMING_HERE = FORWARD + '''
class Model(tf.keras.layers.Layer):
    @v1.keras.utils.track_tf1_style_variables
    def call(self, x):
        out, _, _ = forward(x)
        return out

x = tf.ones([1, 3])
# What ran before at the root must not shift the model's names: an unnamed
# TF1 layer and a default-named scope, outside any decorated call.
v1.layers.dense(x, 2)
with v1.variable_scope(None, default_name="block"):
    pass
names = lambda model: sorted(v.name for v in model.weights)
eager = Model()
eager(x)
eager(x)  # a second call reuses: no new names
result["eager"] = names(eager)
traced = Model()
tf.function(traced)(x)
result["tf_function"] = names(traced)
again = Model()  # a second model in the same process (and a second moving average)
again(x)
result["second_model"] = names(again)
'''


def test_each_outermost_call_names_as_a_graph_of_its_own():
    truth = tf1_graph(NAMING_GRAPH)["names"]
    # TF1 names: dense, dense_1, block, block_1, and the average "w/ExponentialMovingAverage".
    assert "dense/kernel:0" in truth and "dense_1/kernel:0" in truth
    assert "block/w/ExponentialMovingAverage:0" in truth
    got = run_here(NAMING_HERE)
    assert got["eager"] == truth
    assert got["tf_function"] == truth
    assert got["second_model"] == truth


def test_scope_counters_found_outside_calls_are_restored():
    tf1kit.install()
    v1 = tf.compat.v1  # read after install(): a second copy may have replaced it

    class Model(tf.keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x):
            return v1.layers.dense(x, 2)

    with v1.variable_scope(None, default_name="outside"):
        pass
    from tensorflow.python.ops import variable_scope as tf_variable_scope

    before = dict(tf_variable_scope.get_variable_scope_store().variable_scopes_count)
    Model()(tf.ones([1, 3]))
    assert tf_variable_scope.get_variable_scope_store().variable_scopes_count == before


# -- get_variable(collections=...) in a TF1 graph --------------------------------

COLLECTIONS_FORWARD = '''
import tf_slim as slim

def forward(x):
    keys = v1.GraphKeys
    with v1.variable_scope("m"):
        a = v1.get_variable("a", [3], initializer=v1.ones_initializer(),
                            collections=[keys.GLOBAL_VARIABLES, keys.MODEL_VARIABLES])
        b = v1.get_variable("b", [3], initializer=v1.ones_initializer(), trainable=False,
                            collections=[keys.LOCAL_VARIABLES])
        c = v1.get_variable("c", [3], initializer=v1.ones_initializer(), collections=["mine"])
        w = slim.model_variable("w", [3], initializer=v1.ones_initializer())
        h = slim.fully_connected(x, 3, scope="fc", weights_initializer=v1.ones_initializer())
    return h * a * b * c * w
'''

COLLECTIONS_READ = '''
x = v1.placeholder(tf.float32, [None, 3])
y = forward_here(x)
for key in ("variables", "trainable_variables", "local_variables", "model_variables", "mine"):
    result[key] = [v.name for v in v1.get_collection(key)]
result["slim_model"] = [v.name for v in slim.get_model_variables()]
result["slim_model_fc"] = [v.name for v in slim.get_model_variables("m/fc")]
with v1.Session() as sess:
    sess.run([v1.global_variables_initializer(), v1.local_variables_initializer(),
              v1.variables_initializer(v1.get_collection("mine"))])
    result["y"] = sess.run(y, {x: np.ones([1, 3], np.float32)})
'''

COLLECTIONS_GRAPH = graph_case(
    "fidelity_collections_graph",
    COLLECTIONS_FORWARD + "forward_here = forward\n" + COLLECTIONS_READ)

COLLECTIONS_DECORATED = COLLECTIONS_FORWARD + '''
class Model(tf.keras.layers.Layer):
    @v1.keras.utils.track_tf1_style_variables
    def call(self, x):
        return forward(x)

forward_here = Model()
''' + COLLECTIONS_READ


def test_get_variable_collections_in_a_tf1_graph_match_tf1():
    truth, got = tf1_graph(COLLECTIONS_GRAPH), ours_in_graph(COLLECTIONS_DECORATED)
    assert truth["local_variables"] == ["m/b:0"] and "m/b:0" not in truth["variables"]
    assert truth["slim_model_fc"] == ["m/fc/weights:0", "m/fc/biases:0"]
    np.testing.assert_allclose(truth["y"], [[3.0, 3.0, 3.0]])  # sum of ones, times ones
    assert_same(truth, got)


# -- eager collections stay one build's worth ---------------------------------

EAGER_COLLECTIONS = '''
class Model(tf.keras.layers.Layer):
    @v1.keras.utils.track_tf1_style_variables
    def call(self, x):
        h = v1.layers.dense(x, 2, kernel_initializer=v1.ones_initializer())
        v1.add_to_collection("fidelity_activations", h)
        return h

v1.get_default_graph().clear_collection("fidelity_activations")
v1.add_to_collection("fidelity_activations", tf.constant(-1.0))  # outside any call
model = Model()
for scale in (1.0, 2.0, 3.0):
    model(tf.ones([1, 3]) * scale)
held = v1.get_collection("fidelity_activations")
result["count"] = len(held)
result["outside"] = float(held[0])
result["latest"] = held[-1]
'''


def test_eager_collections_hold_the_latest_calls_additions():
    got = run_here(EAGER_COLLECTIONS)
    # What was there before any call, and one build's additions (the latest).
    assert got["count"] == 2 and got["outside"] == -1.0
    np.testing.assert_allclose(got["latest"], [[9.0, 9.0]])  # 3 * (1 + 1 + 1)


def test_eager_collections_inside_tf_function_do_not_leak():
    tf1kit.install()
    v1 = tf.compat.v1

    class Model(tf.keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x):
            v1.add_to_collection("fidelity_traced", x)
            return x

    graph = v1.get_default_graph()
    graph.clear_collection("fidelity_traced")
    traced = tf.function(Model())
    for shape in ([1], [2], [3]):  # three traces
        traced(tf.ones(shape))
    assert graph.get_collection("fidelity_traced") == []


# -- eager TF1 outside decorated calls: reuse=True does not refuse -------------

EAGER_REUSE = case("fidelity_eager_reuse_outside_calls", '''
x = tf.ones([5, 3])
first = v1.layers.dense(x, 2, name="my_dense")
again = v1.layers.dense(x, 2, name="my_dense", reuse=True)
with v1.variable_scope("scope", reuse=True):
    scoped = v1.layers.dense(x, 2, name="my_dense")
result["shapes"] = [list(first.shape), list(again.shape), list(scoped.shape)]
''')


def test_eager_reuse_true_outside_decorated_calls_creates_as_tf1_eager():
    """TF 1.x eager: get_variable created new variables unless a store was
    active, whatever `reuse` said; the official shim does the same."""
    assert_same(official(EAGER_REUSE), ours(EAGER_REUSE))
    assert ours(EAGER_REUSE)["shapes"] == [[5, 2]] * 3


def test_reuse_true_inside_a_decorated_call_still_refuses_a_missing_variable():
    tf1kit.install()
    v1 = tf.compat.v1

    class Model(tf.keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x):
            with v1.variable_scope("scope", reuse=True):
                return v1.layers.dense(x, 2, name="missing")

    with pytest.raises(ValueError, match="scope/missing/kernel does not exist"):
        Model()(tf.ones([1, 3]))


# -- v.value() in a mixed-precision call -----------------------------------------

def test_value_call_in_a_mixed_precision_call_reads_in_the_compute_dtype():
    import keras

    tf1kit.install()
    v1 = tf.compat.v1
    seen = {}

    class Model(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x):
            w = v1.get_variable("w", [3], initializer=v1.constant_initializer(2.0))
            seen["value"], seen["dtype"] = w.value(), w.dtype
            seen["read_value"] = w.read_value()
            return x * w.value() + tf.convert_to_tensor(w.value)

    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = Model()
        out = model(np.ones([2, 3], np.float32))
        traced = tf.function(model)(np.ones([2, 3], np.float32))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert seen["dtype"] == tf.float16 and seen["value"].dtype == tf.float16
    assert seen["read_value"].dtype == tf.float32  # an explicit read, as tf.Variable's
    assert out.dtype == tf.float16 and traced.dtype == tf.float16
    np.testing.assert_allclose(out, np.full([2, 3], 1.0 * 2.0 + 2.0))
    np.testing.assert_allclose(traced, out)
    assert model.weights[0].value.dtype == tf.float32  # outside the call: the variable
    assert model.weights[0].value().dtype == tf.float32


# -- eager Saver with a dict var_list --------------------------------------------

SAVER_DICT = case("fidelity_saver_dict_eager", '''
import os

class Model(tf.keras.layers.Layer):
    @v1.keras.utils.track_tf1_style_variables
    def call(self, x):
        with v1.variable_scope("m"):
            self.w = v1.get_variable("w", [3], initializer=v1.constant_initializer(1.5))
            self.b = v1.get_variable("b", [2], initializer=v1.zeros_initializer())
        return x * self.w

model = Model()
model(tf.ones([1, 3]))
saver = v1.train.Saver({"renamed/weight": model.w, "bias": model.b})
path = saver.save(None, os.path.join(ARTIFACTS, "ckpt"))
result["keys"] = sorted(name for name, _ in tf.train.list_variables(path))
result["saved"] = tf.train.load_checkpoint(path).get_tensor("renamed/weight")
model.w.assign([9.0, 9.0, 9.0])
saver.restore(None, path)
result["restored"] = model.w.numpy()
''')


def test_eager_saver_with_a_dict_var_list_matches_official():
    got = ours(SAVER_DICT)
    assert got["keys"] == ["bias", "renamed/weight"]
    np.testing.assert_allclose(got["restored"], [1.5, 1.5, 1.5])
    assert_same(official(SAVER_DICT), got)


# -- the official shim's store surface that TF1-migration code reads ------------

STORE_SURFACE = case("fidelity_store_surface", '''
class Module(tf.Module):
    @v1.keras.utils.track_tf1_style_variables
    def __call__(self, x):
        w = v1.get_variable("w", [2], initializer=v1.constant_initializer(3.0),
                            regularizer=lambda v: tf.reduce_sum(v) * 0.5)
        v1.get_variable("plain", [2])
        return x * w

module = Module()
module(tf.ones([2]))
regularizers = module._tf1_style_var_store._regularizers
result["regularized"] = sorted(regularizers)
result["losses"] = [float(regularizers[name]()) for name in sorted(regularizers)]

@v1.keras.utils.track_tf1_style_variables
def not_a_method(x):
    return x * 2

try:
    not_a_method(tf.ones([2]))
except ValueError as exc:
    result["misuse"] = "does not extend" in str(exc)
''')


def test_store_regularizers_and_misuse_error_match_official():
    got = ours(STORE_SURFACE)
    assert got["regularized"] == ["w:0"] and got["losses"] == [3.0]  # 0.5 * (3 + 3)
    assert got["misuse"] is True
    assert_same(official(STORE_SURFACE), got)


def test_misuse_is_still_a_type_error():
    tf1kit.install()

    @tf1kit.track_tf1_style_variables
    def not_a_method(x):
        return x

    with pytest.raises(TypeError, match="as `self`"):
        not_a_method(tf.ones([1]))
