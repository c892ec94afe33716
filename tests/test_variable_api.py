"""Shim variables answer the whole tf.Variable API that TF1 code calls.

Three worlds run the same TF1 source:
- eager and tf.function: the official shim (tf_keras) against tf1kit;
- a TF1 graph (Graph + Session): TF's own `get_variable` variables in the
  oracle process (no tf1kit there) against variables that a decorated layer
  creates inside the same kind of graph here.

Every probe records either the value or the error type, so behaviour that
raises in TF (`v.op` eagerly, `initial_value` eagerly) must raise here too.
"""

import numpy as np
import pytest
import tensorflow as tf
import keras

import tf1kit
from differential import (CaseError, assert_same, case, graph_case, official, ours,
                          run_source, tf1_graph)

v1 = tf.compat.v1

# -- shared snippet pieces -------------------------------------------------------

# `attempt` records a value (numpy), an error type, or a short description;
# `describe` turns TF objects into world-independent strings.
PROBES = '''
def describe(x):
    if x is None:
        return "None"
    if isinstance(x, tf.Operation):
        return "Operation:" + x.type
    if isinstance(x, (list, tuple)):
        return [describe(item) for item in x]
    if isinstance(x, (bool, int, float, str, dict)):
        return x
    if isinstance(x, tf.DType):
        return "DType:" + x.name
    if isinstance(x, tf.TensorShape):
        return "TensorShape:" + str(x.as_list())
    if tf.is_tensor(x) and not tf.executing_eagerly():
        return "SymbolicTensor:" + x.dtype.name
    return x

def attempt(name, fn, run=None):
    try:
        value = fn()
        result[name] = describe(run(value) if run is not None else value)
    except Exception as exc:
        result[name] = "raises " + type(exc).__name__
'''

# Variables as `get_variable` makes them; the worlds differ only in who calls it.
MAKE = '''
def make():
    with v1.variable_scope("scope"):
        v = v1.get_variable("v", [3], initializer=v1.constant_initializer([1., 2., 3.]))
        w = v1.get_variable("w", [3], initializer=v1.constant_initializer([1., 2., 3.]))
        m = v1.get_variable("m", [2, 2], initializer=v1.constant_initializer([[1., 2.], [3., 4.]]),
                            constraint=lambda t: tf.clip_by_value(t, 0., 10.))
        i = v1.get_variable("i", [4], dtype=tf.int32, initializer=v1.zeros_initializer(),
                            trainable=False)
    return v, w, m, i
'''

DECORATED = '''
class Owner(tf.keras.layers.Layer):
    @v1.keras.utils.track_tf1_style_variables
    def call(self, x):
        self.made = make()
        return x

def variables():
    owner = Owner()
    owner(tf.zeros([1]))
    return owner.made
'''

PLAIN = '''
def variables():
    return make()
'''

# -- eager and tf.function: official shim vs tf1kit -----------------------------

EAGER_API = case("variable_api_eager", PROBES + MAKE + DECORATED + '''
v, w, m, i = variables()
attempt("value()", lambda: v.value())
attempt("read_value", lambda: v.read_value())
attempt("convert_to_tensor", lambda: tf.convert_to_tensor(v))
attempt("operators", lambda: [v + 1., 2. * v, -v, v[1], v ** 2, v / 2., abs(v),
                              tf.matmul(m, m), m @ m, np.ones(3, np.float32) + v])
attempt("numpy_left_operand", lambda: type(np.ones(3, np.float32) * v).__name__)
attempt("assign", lambda: v.assign([4., 5., 6.], use_locking=True, name="a"))
attempt("assign_no_read", lambda: v.assign([7., 8., 9.], read_value=False))
attempt("after_assign", lambda: v.numpy())
attempt("v1.assign", lambda: v1.assign(v, [1., 2., 3.], name="a1"))
attempt("assign_add", lambda: v.assign_add([1., 1., 1.], use_locking=False, name="add"))
attempt("assign_sub_no_read", lambda: v.assign_sub([.5, .5, .5], read_value=False))
attempt("v1.assign_add", lambda: v1.assign_add(v, [1., 0., 0.]))
attempt("v1.assign_sub", lambda: v1.assign_sub(v, [0., 1., 0.]))
attempt("after_adds", lambda: v.numpy())
attempt("scatter_update", lambda: v1.scatter_update(v, [0], [5.]))
attempt("scatter_add", lambda: v1.scatter_add(v, [1], [2.]))
attempt("scatter_sub", lambda: v1.scatter_sub(v, [2], [1.]))
attempt("scatter_mul", lambda: v1.scatter_mul(v, [0], [3.]))
attempt("scatter_div", lambda: v1.scatter_div(v, [0], [5.]))
attempt("scatter_min", lambda: v1.scatter_min(v, [1], [0.5]))
attempt("scatter_max", lambda: v1.scatter_max(v, [2], [9.]))
attempt("scatter_nd_update", lambda: v1.scatter_nd_update(m, [[0, 1]], [7.]))
attempt("scatter_nd_add", lambda: v1.scatter_nd_add(m, [[1, 0]], [2.]))
attempt("scatter_nd_sub", lambda: v1.scatter_nd_sub(m, [[1, 1]], [1.]))
attempt("batch_scatter_update", lambda: v1.batch_scatter_update(v, [1], [4.]))
attempt("int_scatter", lambda: v1.scatter_add(i, [0, 3], [2, 5]))
slices = lambda values, rows: tf.IndexedSlices(tf.constant(values), tf.constant(rows))
attempt("m.scatter_update", lambda: w.scatter_update(slices([10.], [0])))
attempt("m.scatter_add", lambda: w.scatter_add(slices([1.], [1])))
attempt("m.scatter_sub", lambda: w.scatter_sub(slices([1.], [2])))
attempt("m.scatter_mul", lambda: w.scatter_mul(slices([2.], [0])))
attempt("m.scatter_div", lambda: w.scatter_div(slices([4.], [0])))
attempt("m.scatter_min", lambda: w.scatter_min(slices([0.], [1])))
attempt("m.scatter_max", lambda: w.scatter_max(slices([8.], [2])))
attempt("m.scatter_nd_update", lambda: w.scatter_nd_update([[0]], [1.]))
attempt("m.scatter_nd_add", lambda: w.scatter_nd_add([[1]], [1.]))
attempt("m.scatter_nd_sub", lambda: w.scatter_nd_sub([[2]], [1.]))
attempt("m.batch_scatter_update", lambda: w.batch_scatter_update(slices([6.], [2])))
attempt("m.sparse_read", lambda: w.sparse_read([2, 0]))
attempt("m.gather_nd", lambda: m.gather_nd([[1, 0]]))
attempt("final_v", lambda: v.numpy())
attempt("final_w", lambda: w.numpy())
attempt("final_m", lambda: m.numpy())
attempt("initial_value", lambda: v.initial_value)
attempt("initializer", lambda: v.initializer)
attempt("op", lambda: v.op)
attempt("graph", lambda: v.graph)
attempt("device", lambda: v.device.endswith("CPU:0"))
attempt("handle_dtype", lambda: v.handle.dtype)
attempt("eval", lambda: v.eval())
attempt("to_proto", lambda: v.to_proto())
attempt("load", lambda: v.load([1., 1., 1.]), run=lambda _: v.numpy())
attempt("variables_initializer", lambda: v1.variables_initializer([v, w]))
attempt("is_initialized", lambda: v.is_initialized())
attempt("get_shape", lambda: v.get_shape())
attempt("shape", lambda: m.shape)
attempt("trainable", lambda: [v.trainable, i.trainable])
attempt("constraint", lambda: [v.constraint is None, m.constraint(tf.constant([-1., 20.]))])
attempt("name", lambda: [v.name, i.name])
attempt("dtype", lambda: [v.dtype, i.dtype, v.dtype.base_dtype, v.dtype.is_floating,
                          v.dtype == "float32", v.dtype == tf.float32, i.dtype != tf.float32])
attempt("dtype_as_key", lambda: [{tf.float32: 1}.get(v.dtype), {tf.int32: 2}.get(i.dtype),
                                 {v.dtype: 3}.get(tf.float32)])
attempt("dtype_is_tf_dtype", lambda: isinstance(v.dtype, tf.DType))
attempt("is_tf_variable", lambda: isinstance(v, tf.Variable))
attempt("ref", lambda: {v.ref(): 1, w.ref(): 2}[v.ref()])
attempt("ref_deref", lambda: v.ref().deref() is v)
''')

FUNCTION_API = case("variable_api_tf_function", PROBES + MAKE + DECORATED + '''
v, w, m, i = variables()
inside = {}

@tf.function
def writes():
    outs = [v.value(), v.read_value(), tf.convert_to_tensor(v) * 2.]
    v.assign([4., 5., 6.], name="a", read_value=False)
    outs.append(v1.assign(v, [1., 2., 3.]))
    outs.append(v.assign_add([1., 1., 1.], use_locking=True))
    v.assign_sub([.5, .5, .5], read_value=False)
    outs.append(v1.scatter_update(v, [0], [5.]))
    outs.append(v1.scatter_nd_add(m, [[1, 0]], [2.]))
    outs.append(v1.batch_scatter_update(v, [1], [4.]))
    outs.append(w.scatter_max(tf.IndexedSlices(tf.constant([8.]), tf.constant([2]))))
    outs.append(v + 1.)
    # What graph-only attributes say while tracing (not a TF1 graph: eager outside).
    for name, fn in [("initial_value", lambda: v.initial_value),
                     ("initializer", lambda: v.initializer),
                     ("op", lambda: v.op.type), ("graph", lambda: v.graph is not None),
                     ("dtype", lambda: v.dtype), ("shape", lambda: v.shape),
                     ("v_eq_w", lambda: describe(v == w)), ("hash", lambda: hash(v))]:
        try:
            inside[name] = describe(fn())
        except Exception as exc:
            inside[name] = "raises " + type(exc).__name__
    return outs

result["outs"] = writes()
result["again"] = writes()
result["final"] = [v.numpy(), w.numpy(), m.numpy()]
result["inside"] = inside
''')


def test_eager_api_matches_the_official_shim():
    assert_same(official(EAGER_API), ours(EAGER_API))


def test_eager_api_values_follow_tf1_formulas():
    """The writes above, recomputed with numpy (not copied from a run)."""
    got = ours(EAGER_API)
    v = np.array([1., 2., 3.]) + 1 - .5 + [1., -1., 0.]
    np.testing.assert_allclose(got["after_adds"], v)
    v[0] = 5.
    v[1] += 2.
    v[2] -= 1.
    v[0] *= 3.
    v[0] /= 5.
    v[1] = min(v[1], .5)
    v[2] = max(v[2], 9.)
    v[1] = 4.
    np.testing.assert_allclose(got["final_v"], v)
    w = np.array([10., 2., 3.]) + [0., 1., -1.]
    w[0] = w[0] * 2. / 4.
    w[1] = min(w[1], 0.)
    w[2] = max(w[2], 8.)
    w += [0., 0., 0.]
    w[0], w[1], w[2] = 1., w[1] + 1., 6.
    np.testing.assert_allclose(got["final_w"], w)
    np.testing.assert_allclose(got["final_m"], [[1., 7.], [5., 3.]])
    assert got["load"].tolist() == [1., 1., 1.]
    assert got["assign_no_read"] == "None"  # eager: no op to return
    assert got["int_scatter"].tolist() == [2, 0, 0, 5]


def test_eager_api_answers_as_tf1_and_keras_both():
    got = ours(EAGER_API)
    assert got["dtype_as_key"] == [1, 2, 3]
    assert got["dtype_is_tf_dtype"] is True and got["is_tf_variable"] is True
    assert got["dtype"][:3] == ["DType:float32", "DType:int32", "DType:float32"]
    assert got["numpy_left_operand"] == "EagerTensor"  # numpy defers, as to tf.Variable
    # Eagerly TF raises on graph-only attributes; so must the shim variable.
    for name in ("initial_value", "op", "graph", "eval", "to_proto"):
        assert got[name].startswith("raises "), name


def test_tf_function_api_matches_the_official_shim():
    assert_same(official(FUNCTION_API), ours(FUNCTION_API))


# -- a TF1 graph: TF's own variables (oracle) vs a decorated layer's -------------

GRAPH_BODY = '''
v, w, m, i = variables()
sess = v1.Session()
attempt("variables_initializer", lambda: v1.variables_initializer([v, w, m, i]),
        run=lambda op: [op.type, sess.run(op)])
attempt("initializer", lambda: [v.initializer.type, sess.run(v.initializer)])
attempt("initial_value", lambda: sess.run(v.initial_value))
attempt("op", lambda: [v.op.type, v.op.name])
attempt("graph", lambda: v.graph is v1.get_default_graph())
attempt("device", lambda: v.device)
attempt("handle", lambda: [v.handle.dtype, v.handle.op.type])
attempt("value()", lambda: sess.run(v.value()))
attempt("read_value", lambda: sess.run(v.read_value()))
attempt("eval", lambda: v.eval(session=sess))
attempt("load", lambda: v.load([4., 5., 6.], session=sess), run=lambda _: v.eval(session=sess))
attempt("to_proto", lambda: v.to_proto(), run=lambda p: [p.variable_name, p.initializer_name,
                                                        p.trainable, p.is_resource])
attempt("assign_op", lambda: v.assign([1., 2., 3.], read_value=False, name="set"),
        run=lambda op: [op.type, op.name, sess.run(op)])
attempt("assign", lambda: sess.run(v1.assign(v, [2., 3., 4.], use_locking=True, name="v1a")))
attempt("assign_add", lambda: sess.run(v.assign_add([1., 1., 1.], name="add")))
attempt("assign_sub", lambda: sess.run(v1.assign_sub(v, [.5, .5, .5])))
ops = [v1.scatter_update(v, [0], [5.]), v1.scatter_add(v, [1], [2.]), v1.scatter_sub(v, [2], [1.]),
       v1.scatter_mul(v, [0], [3.]), v1.scatter_div(v, [0], [5.]), v1.scatter_min(v, [1], [0.5]),
       v1.scatter_max(v, [2], [9.]), v1.scatter_nd_update(m, [[0, 1]], [7.]),
       v1.scatter_nd_add(m, [[1, 0]], [2.]), v1.scatter_nd_sub(m, [[1, 1]], [1.]),
       v1.batch_scatter_update(w, [1], [4.]),
       w.scatter_update(tf.IndexedSlices(tf.constant([10.]), tf.constant([0]))),
       w.scatter_nd_add([[2]], [1.])]
attempt("scatters", lambda: [sess.run(op) for op in ops])
attempt("after", lambda: sess.run([v, w, m, i]))
attempt("convert_and_ops", lambda: sess.run([tf.convert_to_tensor(v), v + 1., m @ m, v[2]]))
attempt("get_shape", lambda: [v.get_shape(), m.shape])
attempt("trainable", lambda: [v.trainable, i.trainable])
attempt("constraint", lambda: sess.run(m.constraint(tf.constant([-1., 20.]))))
attempt("dtype", lambda: [v.dtype, {tf.float32: 1}.get(v.dtype), isinstance(v.dtype, tf.DType)])
attempt("is_tf_variable", lambda: isinstance(v, tf.Variable))
attempt("initialized_value", lambda: sess.run(v.initialized_value()))
# Identity equality and hashing: TF1 graphs compare variables as objects.
attempt("eq", lambda: [v == w, v == v, v != w, v in [w, v], w in [v], hash(v) == id(v)])
attempt("dict_keys", lambda: {v: "v", w: "w"}[w])
v1.add_to_collection("probe_collection", w)
attempt("in_collection", lambda: [v in v1.get_collection("probe_collection"),
                                  w in v1.get_collection("probe_collection")])
attempt("var_list", lambda: [x.name for x in [v, w, m] if x in [m, v]])
attempt("graph_collections", lambda: [v in v1.global_variables(), i in v1.global_variables(),
                                      v in v1.trainable_variables(),
                                      i in v1.trainable_variables(),
                                      [x.name for x in v1.trainable_variables()]])
import os, tempfile
directory = tempfile.mkdtemp()
saved = lambda saver, name: sorted(tf.train.list_variables(
    saver.save(sess, os.path.join(directory, name))))
attempt("saver_list", lambda: saved(v1.train.Saver([v, m]), "list"))
attempt("saver_dict", lambda: saved(v1.train.Saver({"renamed": v}), "dict"))
attempt("saver_default", lambda: saved(v1.train.Saver(), "default"))
attempt("uninitialized", lambda: sess.run(v1.report_uninitialized_variables()))
sess.close()
'''

GRAPH_API = graph_case("variable_api_graph", PROBES + MAKE + PLAIN + GRAPH_BODY)


def ours_in_graph(source: str) -> dict:
    """Runs graph source here, with tf1kit installed, inside a fresh tf.Graph."""
    tf1kit.install()
    result = run_source(source, in_graph=True)
    if "error" in result:
        raise CaseError(f"tf1kit raised in a TF1 graph: {result['error']}\n"
                        f"{result['traceback']}")
    return result


@pytest.fixture(scope="module")
def graph_api():
    return tf1_graph(GRAPH_API), ours_in_graph(PROBES + MAKE + DECORATED + GRAPH_BODY)


def test_graph_api_matches_tf1_graph_mode(graph_api):
    truth, shim = graph_api
    # TF 2.21's ResourceVariable dropped initialized_value (NotImplementedError);
    # TF 1.x resource variables had it, and tf1kit keeps it (README differences).
    assert truth.pop("initialized_value") == "raises NotImplementedError"
    # Initialized, so TF 1.x returns the current value (after all the writes).
    np.testing.assert_allclose(shim.pop("initialized_value"), truth["after"][0])
    assert_same(truth, shim)


def test_graph_identity_equality_holds(graph_api):
    _, shim = graph_api
    assert shim["eq"] == [False, True, True, True, False, True]
    assert shim["dict_keys"] == "w"
    assert shim["in_collection"] == [False, True]
    assert shim["var_list"] == ["scope/v:0", "scope/m:0"]
    # The graph's collections hold what get_variable returned, as in TF1.
    assert shim["graph_collections"][:4] == [True, True, True, False]


def test_initialized_value_works_eagerly_as_in_tf1():
    """TF 1.x: the variable's value once initialized (always, eagerly)."""
    layer = _owner()
    v = layer.made[0]
    v.assign([7., 8., 9.])
    np.testing.assert_allclose(v.initialized_value(), [7., 8., 9.])
    np.testing.assert_allclose(tf.function(v.initialized_value)(), [7., 8., 9.])


# tf.compat.v1.train.init_from_checkpoint with variables in its assignment map:
# eagerly it assigns at once; in a TF1 graph it replaces their initializers.
INIT_FROM_CHECKPOINT_BODY = '''
import os, tempfile
prefix = os.path.join(tempfile.mkdtemp(), "ckpt")
with tf.Graph().as_default():
    with v1.variable_scope("old"):
        v1.get_variable("v", initializer=tf.constant([7., 8., 9.]))
        v1.get_variable("m", initializer=tf.constant([[5., 6.], [7., 8.]]))
    with v1.Session() as sess:
        sess.run(v1.global_variables_initializer())
        v1.train.Saver().save(sess, prefix)
v, w, m, i = variables()
v1.train.init_from_checkpoint(prefix, {"old/v": v, "old/m": m})
if tf.executing_eagerly():
    result["restored"] = [v.numpy(), w.numpy(), m.numpy()]
else:
    with v1.Session() as sess:
        sess.run(v1.global_variables_initializer())
        result["restored"] = sess.run([v, w, m])
'''

INIT_FROM_CHECKPOINT = case("variable_api_init_from_checkpoint",
                            MAKE + DECORATED + INIT_FROM_CHECKPOINT_BODY)
INIT_FROM_CHECKPOINT_GRAPH = graph_case("variable_api_init_from_checkpoint_graph",
                                        MAKE + PLAIN + INIT_FROM_CHECKPOINT_BODY)


def test_init_from_checkpoint_fills_shim_variables():
    expected = [[7., 8., 9.], [1., 2., 3.], [[5., 6.], [7., 8.]]]
    eager = ours(INIT_FROM_CHECKPOINT)
    assert_same([np.asarray(x, np.float32) for x in expected], eager["restored"])
    assert_same(official(INIT_FROM_CHECKPOINT), eager)
    graph = ours_in_graph(MAKE + DECORATED + INIT_FROM_CHECKPOINT_BODY)
    assert_same(tf1_graph(INIT_FROM_CHECKPOINT_GRAPH), graph)
    assert_same(eager, graph)


# -- TF1 optimizers and moving averages ------------------------------------------

TRAINING = '''
def loss_of(v, m):
    return tf.reduce_sum(v ** 2) + tf.reduce_sum(m * m) / 2.

OPTIMIZERS = {
    "gd": lambda: v1.train.GradientDescentOptimizer(0.1),
    "adam": lambda: v1.train.AdamOptimizer(0.1),
    "momentum": lambda: v1.train.MomentumOptimizer(0.1, 0.9),
}
'''

EAGER_TRAINING = case("variable_api_optimizers", PROBES + MAKE + DECORATED + TRAINING + '''
for mode in ("eager", "function"):
    for name, make_optimizer in OPTIMIZERS.items():
        v, w, m, i = variables()
        optimizer = make_optimizer()
        ema = v1.train.ExponentialMovingAverage(0.5)

        def step():
            optimizer.minimize(lambda: loss_of(v, m), var_list=[v, m])
            ema.apply([v, m])

        step = tf.function(step) if mode == "function" else step
        step()
        step()
        key = f"{mode}/{name}"
        result[key] = [v.numpy(), m.numpy(), ema.average(v).numpy(), ema.average(m).numpy()]
        result[key + "/slots"] = sorted(optimizer.get_slot_names())
        result[key + "/slot_values"] = [optimizer.get_slot(v, s).numpy()
                                        for s in sorted(optimizer.get_slot_names())]
''')

GRAPH_TRAINING_BODY = TRAINING + '''
for name, make_optimizer in OPTIMIZERS.items():
    with tf.Graph().as_default():
        v, w, m, i = variables()
        optimizer = make_optimizer()
        train = optimizer.minimize(loss_of(v, m), var_list=[v, m])
        ema = v1.train.ExponentialMovingAverage(0.5)
        with tf.control_dependencies([train]):
            update = ema.apply([v, m])
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            sess.run(update)
            sess.run(update)
            result[name] = sess.run([v, m, ema.average(v), ema.average(m)])
            result[name + "/slots"] = sess.run([optimizer.get_slot(v, s)
                                                for s in sorted(optimizer.get_slot_names())])
        result[name + "/ema_name"] = ema.average_name(v)
        result[name + "/slot_names"] = sorted(optimizer.get_slot(v, s).op.name
                                              for s in optimizer.get_slot_names())
'''

GRAPH_TRAINING = graph_case("variable_api_optimizers_graph",
                            PROBES + MAKE + PLAIN + GRAPH_TRAINING_BODY)


def test_tf1_optimizers_and_moving_averages_match_the_official_shim():
    assert_same(official(EAGER_TRAINING), ours(EAGER_TRAINING), rtol=1e-5)


def test_tf1_optimizers_and_moving_averages_match_tf1_graph_mode():
    truth = tf1_graph(GRAPH_TRAINING)
    shim = ours_in_graph(PROBES + MAKE + DECORATED + GRAPH_TRAINING_BODY)
    assert_same(truth, shim, rtol=1e-5)


def test_gradient_descent_momentum_and_averages_follow_their_formulas():
    got = ours(EAGER_TRAINING)
    v0, m0 = np.array([1., 2., 3.]), np.array([[1., 2.], [3., 4.]])
    # d/dv sum(v^2) = 2v; d/dm sum(m^2)/2 = m
    v1_, m1 = v0 - 0.1 * 2 * v0, m0 - 0.1 * m0
    v2, m2 = v1_ - 0.1 * 2 * v1_, m1 - 0.1 * m1
    np.testing.assert_allclose(got["eager/gd"][0], v2, rtol=1e-6)
    np.testing.assert_allclose(got["eager/gd"][1], m2, rtol=1e-6)
    # Eagerly the shadow starts at the value when apply() first runs.
    np.testing.assert_allclose(got["eager/gd"][2], 0.5 * v1_ + 0.5 * v2, rtol=1e-6)
    # In tf.function it starts at the value when traced (before the first step).
    np.testing.assert_allclose(got["function/gd"][2], 0.5 * (0.5 * v0 + 0.5 * v1_) + 0.5 * v2,
                               rtol=1e-6)
    accumulator = 2 * v0
    mv1 = v0 - 0.1 * accumulator
    accumulator = 0.9 * accumulator + 2 * mv1
    np.testing.assert_allclose(got["eager/momentum"][0], mv1 - 0.1 * accumulator, rtol=1e-6)
    np.testing.assert_allclose(got["eager/momentum/slot_values"][0], accumulator, rtol=1e-6)
    assert got["eager/adam/slots"] == ["m", "v"]


# tf.compat.v1.layers objects (tf1kit's inside the decorated call, TF1's own in
# the oracle) in a TF1 graph: their variables, the default var_list from the
# graph's collections, and an explicit var_list of the layers' variables.
LAYERS_GRAPH_BODY = '''
hidden = v1.layers.Dense(3, activation=tf.nn.relu, name="hidden",
                         kernel_initializer=v1.constant_initializer([[.1, .2, .3], [.4, .5, .6]]),
                         bias_initializer=v1.constant_initializer(.1))
out = v1.layers.Dense(1, name="out", kernel_initializer=v1.constant_initializer(.3))

def forward(x):
    return out(hidden(x))
''' + PROBES + '''
x = tf.constant(np.arange(8, dtype=np.float32).reshape(4, 2) / 8.)
loss = tf.reduce_mean(tf.square(model(x) - 1.))
held = [hidden.kernel, hidden.bias, out.kernel, out.bias]
by_default = v1.train.GradientDescentOptimizer(0.5).minimize(loss)
explicit = v1.train.MomentumOptimizer(0.1, 0.9).minimize(loss, var_list=held)
ema = v1.train.ExponentialMovingAverage(0.9)
with tf.control_dependencies([explicit]):
    averaged = ema.apply(held)
attempt("held", lambda: [[v.name, v.op.type, v.dtype, v.shape, v.trainable] for v in held])
attempt("is_tf_variable", lambda: [isinstance(v, tf.Variable) for v in held])
with v1.Session() as sess:
    sess.run(v1.variables_initializer(v1.global_variables()))
    result["values"] = sess.run([v.value() for v in held])
    sess.run(by_default)
    result["after_default"] = sess.run([v.read_value() for v in held])
    sess.run(averaged)
    sess.run(averaged)
    result["after_explicit"] = sess.run(held)
    result["averages"] = sess.run([ema.average(v) for v in held])
    hidden.kernel.load(np.ones((2, 3), np.float32), sess)
    result["loaded"] = hidden.kernel.eval(session=sess)
result["average_names"] = [ema.average_name(v) for v in held]
result["slots"] = sorted(v.op.name for v in v1.global_variables() if "Momentum" in v.op.name)
'''

LAYERS_GRAPH = graph_case("variable_api_layers_graph", LAYERS_GRAPH_BODY.replace(
    "x = tf.constant", "model = forward\nx = tf.constant", 1))

DECORATED_FORWARD = '''
class Model(tf.keras.layers.Layer):
    @v1.keras.utils.track_tf1_style_variables
    def call(self, x):
        return forward(x)

model = Model()
'''


def test_compat_layers_in_a_tf1_graph_train_and_average_as_tf1():
    truth = tf1_graph(LAYERS_GRAPH)
    shim = ours_in_graph(LAYERS_GRAPH_BODY.replace(
        "x = tf.constant", DECORATED_FORWARD + "x = tf.constant", 1))
    assert truth["is_tf_variable"] == [True] * 4
    assert_same(truth, shim, rtol=1e-5)


SAVER = case("variable_api_saver", MAKE + DECORATED + '''
import os, tempfile
v, w, m, i = variables()
directory = tempfile.mkdtemp()
saver = v1.train.Saver(var_list=[v, m, i])
path = saver.save(None, os.path.join(directory, "model"))
result["saved"] = sorted(tf.train.list_variables(path))
v.assign([0., 0., 0.])
saver.restore(None, path)
result["restored"] = v.numpy()
''')


def test_eager_saver_with_a_name_map_takes_the_variable_or_its_backing_one():
    """TF's eager Saver maps names only to ResourceVariable instances (an
    isinstance check on a class tf1kit cannot join); tf1kit hands it the
    backing variable, so `{name: v}` works as in TF1 (tests/test_fidelity.py
    restores through it), and `{name: v.value}` keeps working."""
    import os
    import tempfile

    v = _owner().made[0]
    for entry in (v, v.value):
        prefix = os.path.join(tempfile.mkdtemp(), "model")
        path = v1.train.Saver({"renamed": entry}).save(None, prefix)
        assert tf.train.list_variables(path) == [("renamed", [3])]


def test_tf1_saver_writes_tf1_names_eagerly():
    got = ours(SAVER)
    assert got["saved"] == [["scope/i", [4]], ["scope/m", [2, 2]], ["scope/v", [3]]]
    assert_same(official(SAVER), got)


# -- equality and hashing as TF 1.x ----------------------------------------------

EQUALITY = case("variable_api_equality", PROBES + MAKE + DECORATED + '''
v, w, m, i = variables()
attempt("tf2_eq", lambda: v == w)
attempt("tf2_ne", lambda: v != w)
attempt("tf2_eq_mismatched_shapes", lambda: v == m)
attempt("tf2_hash", lambda: hash(v))
attempt("tf2_in_fails", lambda: v in [w, v])

@tf.function
def inside_function():
    return v == w
attempt("tf2_eq_in_function", inside_function)

was_on = tf.Tensor._USE_EQUALITY
v1.disable_tensor_equality()
try:
    attempt("eq", lambda: [v == w, v == v, v != w, v != v])
    attempt("in", lambda: [v in [w, m, v], v in [w, m], w not in [v]])
    attempt("dict_keys", lambda: {v: "v", w: "w", m: "m"}[w])
    attempt("set", lambda: len({v, w, v, m}))
    attempt("hash", lambda: hash(v) == id(v))
    attempt("var_list", lambda: [x.name for x in [v, w, m] if x in [m, v]])
    attempt("remove", lambda: [x.name for x in [v, w, m] if x not in [w]])
    attempt("index", lambda: [v, w, m].index(m))
    v1.add_to_collection("equality_probe", v)
    attempt("collection", lambda: [w not in v1.get_collection("equality_probe"),
                                   v in v1.get_collection("equality_probe")])
    attempt("fn_eq", lambda: tf.function(lambda: tf.constant(v == w))())
finally:
    if was_on:
        v1.enable_tensor_equality()
''')


def test_equality_and_hashing_match_the_official_shim():
    assert_same(official(EQUALITY), ours(EQUALITY))


def test_equality_is_elementwise_in_tf2_and_identity_without_tensor_equality():
    got = ours(EQUALITY)
    assert got["tf2_eq"].tolist() == [True, True, True]  # same values, elementwise
    assert got["tf2_ne"].tolist() == [False, False, False]
    assert got["tf2_eq_mismatched_shapes"] == False  # noqa: E712 - a scalar, as tf.Variable
    assert got["tf2_hash"] == "raises TypeError" and got["tf2_in_fails"] == "raises ValueError"
    assert got["tf2_eq_in_function"].tolist() == [True, True, True]
    assert got["eq"] == [False, True, True, False]
    assert got["in"] == [True, False, True]
    assert got["dict_keys"] == "w" and got["set"] == 3 and got["hash"] is True
    assert got["var_list"] == ["scope/v:0", "scope/m:0"]
    assert got["remove"] == ["scope/v:0", "scope/m:0"]
    assert got["index"] == 2 and got["collection"] == [True, True]
    assert got["fn_eq"] == False  # noqa: E712
    assert tf.Tensor._USE_EQUALITY, "the case must restore tensor equality"


SLIM_COLLECTIONS_BODY = '''
import tf_slim as slim

class Net(tf.keras.layers.Layer):
    @v1.keras.utils.track_tf1_style_variables
    def call(self, x):
        # Two convolutions with equal shapes: slim's `var not in collection`
        # compares the second conv's variables with the first's.
        with slim.arg_scope([slim.conv2d], variables_collections=["slim_vars"],
                            outputs_collections="slim_outputs",
                            weights_initializer=v1.constant_initializer(0.1)):
            h = slim.conv2d(x, 2, [1, 1], scope="c1")
            h = slim.conv2d(h, 2, [1, 1], scope="c2")
        return slim.fully_connected(slim.flatten(h), 3, scope="fc",
                                    variables_collections={"weights": ["slim_weights"]},
                                    weights_initializer=v1.constant_initializer(0.2))
'''

SLIM_COLLECTIONS = case("variable_api_slim_collections", SLIM_COLLECTIONS_BODY + '''
for name in ("slim_vars", "slim_weights", "slim_outputs"):  # eager collections are global
    v1.get_default_graph().clear_collection(name)
was_on = tf.Tensor._USE_EQUALITY
v1.disable_tensor_equality()
try:
    net = Net()
    x = tf.ones([1, 2, 2, 2])
    result["first"] = net(x)
    result["second"] = net(x)
    result["slim_vars"] = [v.name for v in v1.get_collection("slim_vars")]
    result["slim_weights"] = [v.name for v in v1.get_collection("slim_weights")]
    result["outputs"] = len(v1.get_collection("slim_outputs"))
finally:
    if was_on:
        v1.enable_tensor_equality()
''')

SLIM_GRAPH_BODY = SLIM_COLLECTIONS_BODY + '''
net = Net()
x = tf.ones([1, 2, 2, 2])
first, second = net(x), net(x)
with v1.Session() as sess:
    sess.run(v1.global_variables_initializer())
    result["first"], result["second"] = sess.run([first, second])
result["slim_vars"] = [v.name for v in v1.get_collection("slim_vars")]
result["slim_weights"] = [v.name for v in v1.get_collection("slim_weights")]
result["outputs"] = len(v1.get_collection("slim_outputs"))
'''


def test_slim_collections_work_eagerly_without_tensor_equality():
    expected = ["c1/weights:0", "c1/biases:0", "c2/weights:0", "c2/biases:0"]
    got = ours(SLIM_COLLECTIONS)
    assert got["slim_vars"] == expected  # once each, although the net ran twice
    assert got["slim_weights"] == ["fc/weights:0"]
    # 1x1 convs of a ones input: 2 * 0.1 -> relu, then 2 * 0.2 * 0.1 -> relu, then fc 8 * 0.2
    np.testing.assert_allclose(got["first"], [[8 * 0.2 * (2 * 0.1 * 0.2)] * 3], rtol=1e-6)
    # End points: one per alias, as a TF1 graph built once holds (the official
    # shim appends on every call; README differences, tests/zoo).
    assert got.pop("outputs") == 2
    expected = official(SLIM_COLLECTIONS)
    assert expected.pop("outputs") == 4
    assert_same(expected, got)


SLIM_GRAPH = graph_case("variable_api_slim_graph", SLIM_GRAPH_BODY)


def test_slim_collections_in_a_tf1_graph_hold_each_variable_once():
    """Default TF1 graph mode (no switch): identity equality, as TF1."""
    truth, shim = tf1_graph(SLIM_GRAPH), ours_in_graph(SLIM_GRAPH_BODY)
    assert shim["slim_vars"] == ["c1/weights:0", "c1/biases:0", "c2/weights:0", "c2/biases:0"]
    assert shim["slim_weights"] == ["fc/weights:0"]
    assert_same(truth, shim)


# -- Keras 3 keeps its view --------------------------------------------------------

def _owner():
    tf1kit.install()
    namespace = {"tf": tf, "v1": v1, "np": np}
    exec(MAKE + DECORATED, namespace)
    owner = namespace["Owner"]()
    owner(tf.zeros([1]))
    return owner


def test_value_is_the_backing_variable_for_keras_and_a_read_for_tf1():
    v = _owner().made[0]
    assert isinstance(v.value, tf.Variable) and v.value.name == "scope/v:0"
    assert isinstance(v.value(), tf.Tensor)
    np.testing.assert_allclose(v.value(), [1., 2., 3.])
    assert keras.backend.standardize_dtype(v.dtype) == "float32"
    assert isinstance(v.dtype, tf.DType) and v.dtype is tf.float32


def test_a_decorated_tf_module_lists_each_variable_once():
    """TF1Variable counts as a tf.Variable, so tf.Module finds it both in the
    store and on the TF1 layers it holds: it must be one object."""
    tf1kit.install()

    class Module(tf.Module):
        def __init__(self):
            super().__init__()
            self.dense = v1.layers.Dense(2, name="proj")

        @tf1kit.track_tf1_style_variables
        def __call__(self, x):
            return self.dense(x * v1.get_variable("scale", [3]))

    module = Module()
    module(tf.ones([1, 3]))
    names = [v.name for v in module.trainable_variables]
    assert sorted(names) == ["proj/bias:0", "proj/kernel:0", "scale:0"]
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(module(tf.ones([1, 3])))
    grads = tape.gradient(loss, module.trainable_variables)
    assert all(g is not None for g in grads)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_reads_the_policy_dtype_and_trains(policy):
    tf1kit.install()
    seen = {}

    class Mixed(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x):
            kernel = v1.get_variable("kernel", [4, 2], initializer=v1.ones_initializer())
            moving = v1.get_variable("moving", [2], initializer=v1.zeros_initializer(),
                                     trainable=False)
            seen["dtype"] = kernel.dtype
            seen["handle"] = kernel.handle.dtype  # Keras' `.value` is a cast tensor here
            # TF1's `v.value()` reads in the compute dtype here, read_value() the stored one.
            seen["reads"] = [kernel.value().dtype, kernel.read_value().dtype]
            seen["lookup"] = {tf.float16: "half", tf.bfloat16: "brain"}.get(kernel.dtype)
            outputs = tf.matmul(x, kernel)
            # A TF1 moving average: its reads are autocast, its writes land as float32.
            moving.assign(moving * 0.5 + tf.reduce_mean(outputs, 0) * 0.5, read_value=False)
            v1.assign_add(moving, tf.ones([2], outputs.dtype))
            return outputs

    keras.mixed_precision.set_global_policy(policy)
    try:
        inputs = keras.Input((4,))
        model = keras.Model(inputs, keras.layers.Activation("linear", dtype="float32")(
            Mixed()(inputs)))
        model.compile(keras.optimizers.SGD(0.1), "mse")
        x = np.full((4, 4), 0.01, np.float32)
        model.fit(x, np.zeros((4, 2), np.float32), batch_size=4, verbose=0)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    compute = tf.as_dtype(policy.split("_")[1])
    kernel = model.layers[1].weights[0]
    assert seen["handle"] == tf.resource
    assert seen["reads"] == [tf.as_dtype(compute), tf.float32]
    assert seen["dtype"] == compute and seen["lookup"] == {"float16": "half"}.get(
        compute.name, "brain")
    assert kernel.dtype is tf.float32 and kernel.value.dtype == tf.float32
    # One SGD step on mean((x @ K)^2): dL/dK_kj = mean_b(2 * y_bj * x_bk) / 2 outputs.
    y = x @ np.ones((4, 2))
    grad = (x.T @ (2 * y)) / (4 * 2)
    np.testing.assert_allclose(1 - kernel.numpy(), 0.1 * grad, rtol=2e-2)
    # One update: the symbolic call at model construction writes nothing.
    moving = model.layers[1].weights[1]
    assert moving.value.dtype == tf.float32
    np.testing.assert_allclose(moving.numpy(), 0 * 0.5 + y.mean(0) * 0.5 + 1.0, rtol=1e-2)


def test_stateless_call_records_writes_instead_of_applying_them():
    """Keras 3's stateless_call: TF1 writes become returned state."""
    tf1kit.install()

    class Counting(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x):
            count = v1.get_variable("count", [], initializer=v1.zeros_initializer(),
                                    trainable=False)
            count.assign_add(1.0)
            return x * v1.get_variable("k", [2], initializer=v1.ones_initializer())

    layer = Counting()
    layer(tf.ones([2]))
    count = layer.non_trainable_variables[0]
    _, state = layer.stateless_call([v.value for v in layer.trainable_variables],
                                    [count.value], tf.ones([2]))
    assert float(state[0]) == 2.0 and float(count.numpy()) == 1.0


def test_value_call_works_on_mirrored_variables():
    devices = tf.config.list_logical_devices("CPU")
    if len(devices) < 2:
        pytest.skip("needs two logical CPUs (tests/conftest.py splits the CPU)")
    strategy = tf.distribute.MirroredStrategy([d.name for d in devices[:2]])
    with strategy.scope():
        owner = _owner()
    v = owner.made[0]
    assert "Mirrored" in type(v.value).__name__
    np.testing.assert_allclose(v.value(), [1., 2., 3.])

    with strategy.scope():
        assert v.assign_add([1., 1., 1.], read_value=False) is None
    per_replica = strategy.run(tf.function(lambda: v.value() * 2.))
    for value in strategy.experimental_local_results(per_replica):
        np.testing.assert_allclose(value, [4., 6., 8.])
