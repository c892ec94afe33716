"""Bad input: clear errors that name the variable or method, state left intact."""

import os
import subprocess
import sys

import pytest
import tensorflow as tf
import keras

import tf1kit

v1 = tf.compat.v1


def test_decorating_a_staticmethod_is_refused():
    with pytest.raises(TypeError, match="instance methods"):
        tf1kit.track_tf1_style_variables(staticmethod(lambda x: x))


def test_decorating_a_function_without_self_is_refused():
    def forward():
        return 1

    with pytest.raises(TypeError, match="forward takes no `self`"):
        tf1kit.track_tf1_style_variables(forward)


def test_calling_with_a_non_module_self_names_the_method():
    @tf1kit.track_tf1_style_variables
    def forward(self, x):
        return x

    with pytest.raises(TypeError, match=r"forward was called with 'Plain' as `self`"):
        forward(type("Plain", (), {})(), 1)


def test_get_or_create_layer_outside_a_decorated_method():
    with pytest.raises(ValueError, match="'dense_model'.*outside a method decorated"):
        tf1kit.get_or_create_layer("dense_model", lambda: keras.layers.Dense(1))


def _scope_counts():
    from tensorflow.python.ops import variable_scope as tf_variable_scope

    return dict(tf_variable_scope.get_variable_scope_store().variable_scopes_count)


# Scope counters outside any call, as earlier test modules left them: a
# decorated call must leave them exactly so.
COUNTS_OUTSIDE: dict = {}


@pytest.fixture(autouse=True)
def _counts_outside_calls():
    COUNTS_OUTSIDE.clear()
    COUNTS_OUTSIDE.update(_scope_counts())
    yield


class Configurable(keras.layers.Layer):
    """Runs whatever get_variable arguments the test sets, after one good variable."""

    kwargs = {}

    @tf1kit.track_tf1_style_variables
    def call(self, x):
        with v1.variable_scope("cfg"):
            good = v1.get_variable("good", [], initializer=v1.ones_initializer())
            bad = v1.get_variable("bad", **self.kwargs)
        return x * good * bad


def seven_values(shape, dtype=None, partition_info=None):
    return tf.zeros([7], dtype)


def int_values(shape, dtype=None, partition_info=None):
    return tf.constant([1, 2, 3])


def raising_regularizer(weights):
    raise ZeroDivisionError("regularizer bug")


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(shape=[2], initializer=tf.constant([1.0, 2.0])), ValueError,
     "cfg/bad: if initializer is a constant"),
    (dict(initializer=None), ValueError, "cfg/bad did not get an initializer"),
    (dict(shape=[2], dtype=tf.complex64), ValueError, "initializer for variable cfg/bad"),
    (dict(shape=[None, 2]), ValueError, "cfg/bad"),
    (dict(shape=[2], partitioner=v1.fixed_size_partitioner(2)), ValueError,
     "cfg/bad was requested with partitioner"),
    (dict(shape=[2], validate_shape=False), ValueError, "cfg/bad: validate_shape=False"),
    (dict(shape=[3], initializer=seven_values), ValueError,
     r"Variable cfg/bad: the initializer .*seven_values.* returned a value of shape \(7,\), "
     r"but shape \(3,\) was requested"),
    (dict(shape=[3], initializer=int_values), ValueError,
     "Variable cfg/bad: its initializer gave a value that is not a float32 tensor"),
    (dict(initializer=tf.constant([1, 2, 3]), dtype=tf.float32), ValueError,
     "Variable cfg/bad: Initializer type .*int32.* and explicit dtype .*float32.* don't match"),
    (dict(shape=[2], regularizer=raising_regularizer), ZeroDivisionError,
     "Variable cfg/bad: its regularizer .*raising_regularizer.* raised "
     "ZeroDivisionError: regularizer bug"),
], ids=["constant_with_shape", "no_initializer", "complex_default", "unknown_shape",
        "partitioner", "validate_shape", "initializer_shape", "initializer_dtype",
        "constant_dtype", "raising_regularizer"])
def test_bad_get_variable_arguments_name_the_variable(kwargs, error, message):
    layer = Configurable()
    layer.kwargs = kwargs
    with pytest.raises(error, match=message):
        layer(tf.ones([2]))
    assert_state_unchanged(layer, ["cfg/good"])
    # The variable created before the failure stays consistent and usable.
    layer.kwargs = dict(shape=[2], initializer=v1.ones_initializer())
    assert layer(tf.ones([2])).numpy().tolist() == [1.0, 1.0]
    assert_state_unchanged(layer, ["cfg/good", "cfg/bad"])


def assert_state_unchanged(layer, names):
    """Only the variables created before the bad one, in the store and the
    layer alike; no call, scope or counter left open."""
    from tensorflow.python.ops import variable_scope as tf_variable_scope

    from tf1kit.decorator import find_store
    from tf1kit.store.scope_hooks import active

    assert [v.name for v in layer.weights] == [f"{n}:0" for n in names]
    assert list(find_store(layer).variables_by_name) == names
    assert (active.store, active.depth) == (None, 0)
    assert v1.get_variable_scope().name == "" and tf.get_current_name_scope() == ""
    assert tf_variable_scope.get_variable_scope_store().variable_scopes_count == COUNTS_OUTSIDE


@pytest.mark.parametrize("name", [123, None])
@pytest.mark.parametrize("scope", ["cfg", None])
def test_non_string_names_are_named_in_the_error(name, scope):
    class BadName(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x):
            with v1.variable_scope(scope, default_name="top"):
                good = v1.get_variable("good", [], initializer=v1.ones_initializer())
                return x * good * v1.get_variable(name, [])

    layer = BadName()
    where = scope or "top"
    with pytest.raises(TypeError, match=rf"a variable name must be a string, got {name!r} "
                                        rf"\({type(name).__name__}\) in variable_scope '{where}'"):
        layer(tf.ones([2]))
    assert_state_unchanged(layer, [f"{where}/good"])


def test_non_string_name_at_top_level_is_named_by_the_store():
    class TopLevel(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x):
            return x * v1.get_variable(123, [])

    with pytest.raises(TypeError, match=r"a variable name must be a string, got 123 \(int\)"):
        TopLevel()(tf.ones([2]))


def test_reuse_true_on_a_missing_variable_raises_eagerly_and_creates_nothing():
    """TF1 (graph mode, and tf.function) raises; eager TF forgets reuse=True.
    The README's differences table lists this (the official shim creates)."""

    class Renamed(keras.layers.Layer):
        scope = "s"

        @tf1kit.track_tf1_style_variables
        def call(self, x):
            with v1.variable_scope("outer"):
                w = v1.get_variable("w", [], initializer=v1.ones_initializer())
            with v1.variable_scope(self.scope, reuse=True):
                with v1.variable_scope("inner"):  # reuse=True is inherited, as in TF1
                    return x * w * v1.get_variable("w", [])

    layer = Renamed()
    with pytest.raises(ValueError, match="Variable s/inner/w does not exist"):
        layer(tf.ones([1]))
    assert_state_unchanged(layer, ["outer/w"])
    Renamed.scope = "outer"
    with pytest.raises(ValueError, match="Variable outer/inner/w does not exist"):
        layer(tf.ones([1]))


def test_reuse_true_finds_existing_variables_and_auto_reuse_creates():
    class Shared(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x):
            with v1.variable_scope("a"):
                w = v1.get_variable("w", [], initializer=v1.constant_initializer(2.0))
            with v1.variable_scope("a", reuse=True):
                same = v1.get_variable("w", [])
            with v1.variable_scope("a", reuse=True):
                with v1.variable_scope("b", reuse=v1.AUTO_REUSE):  # AUTO_REUSE wins below
                    made = v1.get_variable("m", [], initializer=v1.ones_initializer())
            scope = v1.get_variable_scope()
            scope.reuse_variables()
            with pytest.raises(ValueError, match="Variable fresh does not exist"):
                v1.get_variable("fresh", [])
            assert same is w
            return x * w * same * made

    layer = Shared()
    assert layer(tf.ones([1])).numpy().tolist() == [4.0]
    assert [v.name for v in layer.weights] == ["a/w:0", "a/b/m:0"]
    # reuse_variables() on the root scope lasts for the call, as TF1's for its graph.
    assert v1.get_variable_scope().reuse is not True
    assert layer(tf.ones([1])).numpy().tolist() == [4.0]


def test_reuse_true_inside_tf_function_raises_like_the_official_shim():
    class Reuse(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x):
            with v1.variable_scope("s", reuse=True):
                return x * v1.get_variable("w", [])

    with pytest.raises(ValueError, match="Variable s/w does not exist"):
        tf.function(Reuse())(tf.ones([1]))


def test_names_are_stable_across_calls_without_an_outer_scope():
    """The official shim gives `dense_2`, `dense_3`... on the second call and keeps
    the first call's variables around (12 weights after two calls, measured);
    tf1kit starts each outermost call from the same scope counters."""

    class NoOuterScope(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x):
            for _ in range(2):
                with v1.variable_scope(None, default_name="blk"):
                    x = x * v1.get_variable("w", [], initializer=v1.ones_initializer())
            return x

    layer = NoOuterScope()
    for _ in range(3):
        layer(tf.ones([1]))
    assert [v.name for v in layer.weights] == ["blk/w:0", "blk_1/w:0"]


def test_install_is_idempotent_and_reversible():
    utils = tf.compat.v1.keras.utils
    tf1kit.uninstall()
    assert not hasattr(utils, "track_tf1_style_variables")
    tf1kit.install()
    tf1kit.install()
    assert utils.track_tf1_style_variables is tf1kit.track_tf1_style_variables
    assert utils.DeterministicRandomTestTool is tf1kit.DeterministicRandomTestTool
    assert tf.compat.v1.layers is tf1kit.layers
    tf1kit.uninstall()
    assert not hasattr(utils, "get_or_create_layer")
    assert tf.compat.v1.__dict__["layers"] is not tf1kit.layers
    with pytest.raises(AttributeError, match="not available with Keras 3"):
        tf.compat.v1.layers.dense
    tf1kit.install()
    assert tf.compat.v1.layers is tf1kit.layers


def test_import_refuses_legacy_keras_with_a_clear_message():
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, "-c", "import tf1kit"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "TF_USE_LEGACY_KERAS is set" in proc.stderr


def test_version_parsing():
    from tf1kit._versions import _release

    assert _release("2.16.0rc1") == (2, 16)
    assert _release("2.21.0") >= (2, 16) > _release("2.15.1")


def test_a_tf1_graph_built_inside_a_decorated_call_keeps_its_own_variables():
    """The owner's store answers get_variable in the call (and in tf.functions
    traced in it), not in a fresh tf.Graph the call opens."""

    class BuildsAGraph(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x):
            w = v1.get_variable("w", [], initializer=v1.ones_initializer())
            with tf.Graph().as_default():
                v1.get_variable("in_graph", [1])
                self.graph_variables = [v.op.name for v in v1.global_variables()]
            self.traced = tf.function(lambda: v1.get_variable("w", []))()
            return x * w

    layer = BuildsAGraph()
    layer(tf.ones([1]))
    assert layer.graph_variables == ["in_graph"]
    assert [v.name for v in layer.weights] == ["w:0"]


def test_keras_traceback_filter_leaves_out_tf1kits_frames_in_scripts():
    # Keras cuts its own and TensorFlow's frames; tf1kit's decorator and
    # layers are cut the same way, so the user's line follows their call.
    import traceback

    import keras

    from tf1kit.decorator.traceback_filter import PACKAGE_DIR

    tf1kit.install()  # tf.compat.v1.layers are tf1kit's

    class Mismatched(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x):
            w = tf.compat.v1.get_variable("w", [3, 4])
            return tf.compat.v1.layers.dense(x, 2, name="d") + tf.matmul(x, w)

    def frames(exc):
        return [frame.filename for frame in traceback.extract_tb(exc.__traceback__)]

    with pytest.raises(tf.errors.InvalidArgumentError) as filtered:
        Mismatched()(tf.ones([2, 5]))
    assert not [name for name in frames(filtered.value) if name.startswith(PACKAGE_DIR)]
    assert frames(filtered.value)[-1] == __file__
    keras.config.disable_traceback_filtering()
    try:
        with pytest.raises(tf.errors.InvalidArgumentError) as unfiltered:
            Mismatched()(tf.ones([2, 5]))
    finally:
        keras.config.enable_traceback_filtering()
    assert any(name.endswith("tf1kit/decorator/track.py") for name in frames(unfiltered.value))
