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


class Configurable(keras.layers.Layer):
    """Runs whatever get_variable arguments the test sets, after one good variable."""

    kwargs = {}

    @tf1kit.track_tf1_style_variables
    def call(self, x):
        with v1.variable_scope("cfg"):
            good = v1.get_variable("good", [], initializer=v1.ones_initializer())
            bad = v1.get_variable("bad", **self.kwargs)
        return x * good * bad


@pytest.mark.parametrize("kwargs, message", [
    (dict(shape=[2], initializer=tf.constant([1.0, 2.0])), "cfg/bad: if initializer is a constant"),
    (dict(initializer=None), "cfg/bad did not get an initializer"),
    (dict(shape=[2], dtype=tf.complex64), "initializer for variable cfg/bad"),
    (dict(shape=[None, 2]), "cfg/bad"),
    (dict(shape=[2], partitioner=v1.fixed_size_partitioner(2)), "cfg/bad was requested with partitioner"),
    (dict(shape=[2], validate_shape=False), "cfg/bad: validate_shape=False"),
])
def test_bad_get_variable_arguments_name_the_variable(kwargs, message):
    layer = Configurable()
    layer.kwargs = kwargs
    with pytest.raises(ValueError, match=message):
        layer(tf.ones([2]))
    # The variable created before the failure stays consistent and usable.
    assert [v.name for v in layer.weights] == ["cfg/good:0"]
    layer.kwargs = dict(shape=[2], initializer=v1.ones_initializer())
    assert layer(tf.ones([2])).numpy().tolist() == [1.0, 1.0]
    assert [v.name for v in layer.weights] == ["cfg/good:0", "cfg/bad:0"]


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
