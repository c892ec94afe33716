"""Every TensorFlow and Keras internal tf1kit relies on, in one place.

tf1kit re-implements TF1's variable semantics on top of TensorFlow's own
`_VariableStore` and adapts Keras 3's layer tracking. When an upgrade moves
or changes one of these internals, this file fails first, naming it; the
rest of the suite would fail in puzzling ways. pyproject.toml bounds
TensorFlow and Keras to the versions this passes on (see `TESTED_*`).

Where a test below checks *behaviour* (e.g. that eager scopes forget
`reuse=True`), it documents why tf1kit needs the internal at all: if the
behaviour goes away, so can the workaround.
"""

from __future__ import annotations

import abc
import importlib
import inspect
import pathlib
import re
import threading

import numpy as np
import pytest
import tensorflow as tf
import keras
from keras.src import backend as keras_backend
from keras.src.backend.common import global_state
from keras.src.backend.common.stateless_scope import StatelessScope, in_stateless_scope
from tensorflow.python.eager import context
from tensorflow.python.framework import ops, random_seed
from tensorflow.python.ops import variable_scope as tf_variable_scope
from tensorflow.python.util import object_identity

import tf1kit  # noqa: F401 - installs its hooks; the checks read TensorFlow's originals
from tf1kit import _versions
from tf1kit.decorator import find_store
from tf1kit.store import reuse_fast_path, scope_hooks
from tf1kit.store import variable as tf1_variable

ROOT = pathlib.Path(__file__).resolve().parents[1]


def parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_installed_versions_are_the_tested_ones_and_pyproject_bounds_them():
    text = (ROOT / "pyproject.toml").read_text()
    tf_minor, keras_minor = _versions.TESTED_TENSORFLOW[1], _versions.TESTED_KERAS[1]
    assert f'"tensorflow>=2.16,<2.{tf_minor + 1}"' in text
    assert f'"tensorflow-cpu>=2.16,<2.{tf_minor + 1}"' in text
    assert f'"tf-keras>=2.16,<2.{tf_minor + 1}"' in text
    assert text.count(f'"keras>=3.0,<3.{keras_minor + 1}"') == 2
    assert _versions._release(tf.__version__) == _versions.TESTED_TENSORFLOW
    assert _versions._release(keras.__version__) == _versions.TESTED_KERAS


# -- tensorflow.python.ops.variable_scope ------------------------------------

def test_variable_store_base_class():
    """VariableStore subclasses `_VariableStore` and overrides these methods."""
    store_class = tf_variable_scope._VariableStore
    assert parameters(store_class._get_single_variable) == [
        "self", "name", "shape", "dtype", "initializer", "regularizer", "partition_info",
        "reuse", "trainable", "collections", "caching_device", "validate_shape",
        "use_resource", "constraint", "synchronization", "aggregation"]
    assert parameters(store_class._get_partitioned_variable)[:3] == ["self", "name", "partitioner"]
    assert parameters(store_class._get_default_initializer) == ["self", "name", "shape", "dtype"]
    assert parameters(store_class.get_variable)[:2] == ["self", "name"]
    store = store_class()
    for attribute in ("_vars", "_partitioned_vars", "_store_eager_variables"):
        assert hasattr(store, attribute), attribute
    assert callable(tf_variable_scope._needs_no_arguments)


def test_get_variable_finds_its_store_through_the_module_function():
    """scope_hooks replaces `_get_default_variable_store`; get_variable and
    `_pure_variable_scope` must look it up by that global name."""
    assert scope_hooks._tensorflow_default_store.__name__ == "_get_default_variable_store"
    assert parameters(scope_hooks._tensorflow_default_store) == []
    assert "_get_default_variable_store" in tf_variable_scope.get_variable.__code__.co_names
    assert tf_variable_scope._get_default_variable_store is scope_hooks._default_variable_store
    assert callable(tf_variable_scope.with_variable_store)  # layers/base.py, outside calls


def test_eager_scopes_forget_reuse_true():
    """Why scope_hooks remembers `reuse`: eager VariableScopes turn True into AUTO_REUSE."""
    assert tf_variable_scope.VariableScope(True)._reuse is tf_variable_scope.AUTO_REUSE
    pure = tf_variable_scope._pure_variable_scope("canary", reuse=True)
    for attribute in ("_reuse", "_name_or_scope", "_var_scope_store"):
        assert hasattr(pure, attribute), attribute
    assert parameters(scope_hooks._tensorflow_pure_scope_enter) == ["self"]
    assert tf_variable_scope._pure_variable_scope.__enter__ is (
        scope_hooks._pure_scope_enter_remembering_reuse)


def test_scope_get_variable_builds_the_full_name_itself():
    """The decorator names the variable in TF's argument errors by reading
    `name` and `self` from the frame of `VariableScope.get_variable`."""
    code = reuse_fast_path._tensorflow_scope_get_variable.__code__
    assert code.co_varnames[:3] == ("self", "var_store", "name")
    assert "full_name" in code.co_varnames


def test_reuse_fast_path_wraps_scope_get_variable_with_its_signature():
    """store/reuse_fast_path.py replaces `VariableScope.get_variable` with a
    function of the same parameters, reads the scope's defaults and validates
    synchronization/aggregation with TensorFlow's own function."""
    original = reuse_fast_path._tensorflow_scope_get_variable
    assert tf_variable_scope.VariableScope.get_variable is reuse_fast_path._scope_get_variable
    assert parameters(original) == parameters(reuse_fast_path._scope_get_variable)
    scope = tf_variable_scope.VariableScope(False, name="canary")
    for attribute in ("_custom_getter", "_partitioner", "_initializer", "_dtype"):
        assert hasattr(scope, attribute), attribute
    from tensorflow.python.ops import variables as tf_variables

    assert parameters(tf_variables.validate_synchronization_aggregation_trainable)[:3] == [
        "synchronization", "aggregation", "trainable"]
    assert tf_variables.VariableAggregationV2.NONE in reuse_fast_path._DEFAULT_AGGREGATIONS


def test_keras_scopes_live_on_the_global_state_tracker():
    """TF1Variable reads Keras' stateless and autocast scopes straight from
    the thread-local tracker (store/variable.py, `_plain_backing`)."""
    import keras
    from keras.src.backend.common import global_state

    tracker = global_state.GLOBAL_STATE_TRACKER
    assert getattr(tracker, "stateless_scope", None) is None
    with keras.StatelessScope():
        assert tracker.stateless_scope is not None
    with keras.src.backend.AutocastScope("float16"):
        assert tracker.autocast_scope is not None
    assert "_TF_MODULE_IGNORED_PROPERTIES" in vars(tf.Module)  # VariableStore extends it


def test_scope_store_is_per_thread_and_restorable():
    scope_store = tf_variable_scope.get_variable_scope_store()
    assert isinstance(scope_store, threading.local)
    assert isinstance(scope_store.current_scope, tf_variable_scope.VariableScope)
    assert isinstance(scope_store.variable_scopes_count, dict)
    assert hasattr(scope_store.current_scope, "_reuse")


# -- other TensorFlow internals ----------------------------------------------

def test_eager_name_scope_and_graphs():
    eager = context.context()
    with tf.name_scope("canary"):
        assert eager.scope_name == "canary/"
    assert eager.scope_name == ""
    eager.scope_name = ""  # the decorator restores it by assignment
    assert ops.get_default_graph().building_function is False
    tf.function(lambda: ops.get_default_graph().building_function or None)()
    assert parameters(random_seed.get_seed) == ["op_seed"]  # testing/determinism.py


def test_tf_module_walk_flattens_mappings_and_has_flatten():
    """VariableStore exposes nested Keras weights to `module.variables` as a
    Mapping in its attributes; notebook/snapshot.py calls `_flatten`."""
    import collections.abc

    class View(collections.abc.Mapping):
        def __init__(self, values):
            self.values = values

        def __getitem__(self, key):
            return self.values[key]

        def __iter__(self):
            return iter(self.values)

        def __len__(self):
            return len(self.values)

    module = tf.Module()
    variable = tf.Variable(1.0)
    object.__setattr__(module, "_view", View({"v": variable}))
    assert list(module.variables) == [variable]
    assert "predicate" in parameters(tf.Module._flatten)
    assert hasattr(tf, "__internal__") and tf.__internal__.tracking.Trackable  # layers/base.py


# -- Keras 3 internals --------------------------------------------------------

def test_layer_tracker_and_state_lock():
    """The decorator tracks variables and sub-layers itself and keeps the
    tracker of decorated layers open (`_lock_state`, as Keras' Sequential)."""

    class Built(keras.layers.Layer):
        def build(self, input_shape):
            pass

        def call(self, x):
            return x

    layer = Built()
    layer(tf.ones([1, 2]))
    tracker = layer._tracker
    assert tracker.locked is True  # what `_keep_state_open` prevents for decorated layers
    for method in ("lock", "unlock", "add_to_store", "is_in_store", "untrack"):
        assert callable(getattr(tracker, method)), method
    assert parameters(keras.layers.Layer._track_variable) == ["self", "variable"]
    assert parameters(keras.layers.Layer._untrack_variable) == ["self", "variable"]
    assert parameters(keras.layers.Layer._lock_state) == ["self"]
    flatten_layers = parameters(keras.layers.Layer._flatten_layers)
    assert flatten_layers[:3] == ["self", "include_self", "recursive"]
    assert keras.Sequential._lock_state is not keras.layers.Layer._lock_state
    assert hasattr(layer, "_trainable_variables") and hasattr(layer, "_non_trainable_variables")


def test_layer_build_and_build_config():
    """Decorated classes replace Keras' default `build` (identified by
    identity) and its build config methods."""
    assert keras.Model.build is keras.layers.Layer.build
    assert parameters(keras.layers.Layer.build_from_config) == ["self", "config"]
    assert parameters(keras.layers.Layer.get_build_config) == ["self"]
    assert keras.Model.build_from_config is not None
    assert callable(keras_backend.compute_output_spec)
    spec = keras_backend.compute_output_spec(lambda d: d["a"] + 1,
                                             {"a": keras.KerasTensor((2, 3), dtype="int32")})
    assert spec.shape == (2, 3) and spec.dtype == "int32"


def test_global_state_keys():
    """store/variable.py, layers/base.py and layers/branching.py read these keys."""
    with StatelessScope() as scope:
        assert in_stateless_scope()
        assert global_state.get_global_attribute("stateless_scope") is scope
    with keras.name_scope("canary"):
        stack = global_state.get_global_attribute("name_scope_stack")
        assert stack and stack[-1].name == "canary"
    seen = []

    class Reads(keras.layers.Layer):
        def call(self, x):
            seen.append(global_state.get_global_attribute("current_call_ctx"))
            return x

    layer = Reads()
    layer(tf.ones([1]))
    assert seen[0] is not None and seen[0].entry_layer is layer


def test_keras_variable_hooks_used_by_tf1_variable():
    variable_class = type(keras.Variable(1.0))
    assert parameters(variable_class._initialize) == ["self", "value"]
    for name in ("_map_aggregation", "_map_synchronization"):
        assert callable(getattr(variable_class, name)), name
    variable = keras.Variable(1.0, name="canary")
    for attribute in ("_path", "_value", "_dtype"):
        assert hasattr(variable, attribute), attribute


def test_keras_random_functions_the_determinism_tool_routes():
    module = keras_backend.random
    for name in ("uniform", "normal", "truncated_normal", "make_default_seed"):
        assert callable(getattr(module, name)), name
    for name in ("uniform", "normal", "truncated_normal"):
        assert "seed" in parameters(getattr(module, name)), name


def test_keras_wraps_layer_errors_with_the_same_type():
    """Error tests match on tf1kit's message inside Keras' decoration."""

    class Raises(keras.layers.Layer):
        def call(self, x):
            raise ValueError("Variable canary/w: message")

    with pytest.raises(ValueError, match=re.escape("Variable canary/w: message")):
        Raises()(tf.ones([1]))


# -- Keras 3 internals of tf1kit/layers (mixed precision, call context) -------

def test_global_dtype_policy_is_a_global_attribute():
    """tf1kit/layers/mixed_precision.py reads the policy without building one."""
    try:
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
        policy = global_state.get_global_attribute("dtype_policy")
        assert (policy.name, policy.variable_dtype, policy.compute_dtype) == (
            "mixed_bfloat16", "float32", "bfloat16")
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_autocast_scope_casts_float_variables_on_read():
    """tf1kit/layers/mixed_precision.py: TF1 layers read variables in the compute dtype."""
    variable = keras.Variable(np.ones([2]), dtype="float32")
    assert keras_backend.get_autocast_scope() is None
    with keras_backend.AutocastScope("float16"):
        assert keras_backend.get_autocast_scope().dtype == "float16"
        assert tf.convert_to_tensor(variable).dtype == tf.float16
        with keras_backend.AutocastScope(None):
            assert tf.convert_to_tensor(variable).dtype == tf.float32
    assert tf.convert_to_tensor(variable).dtype == tf.float32


def test_call_context_names_the_entry_layer():
    """tf1kit/layers/base.py and branching.py find the Keras call they run in."""
    seen = {}

    class Probe(keras.layers.Layer):
        def call(self, x, training=None):
            context = global_state.get_global_attribute("current_call_ctx")
            seen["entry"], seen["training"] = context.entry_layer, context.training
            return x

    probe = Probe()
    probe(tf.ones([1]), training=True)
    assert seen == {"entry": probe, "training": True}


def test_flatten_layers_walks_nested_layers():
    """tf1kit/notebook/snapshot.py finds the shim layers inside a model this way."""
    inner = keras.layers.Dense(2, name="inner")
    outer = keras.Sequential([keras.Input((3,)), keras.Sequential([inner], name="middle")])
    found = list(outer._flatten_layers(include_self=True, recursive=True))
    assert found[0] is outer and any(layer is inner for layer in found)
    assert not any(layer is outer for layer in outer._flatten_layers(include_self=False))


def test_ipython_names_cells_through_the_compiler():
    """tf1kit/notebook/cell_source.py reads the running cell's number this way."""
    from IPython.core.compilerop import CachingCompiler

    compiler = CachingCompiler()
    filename = compiler.cache("x = 1\n", 7)
    if hasattr(compiler, "format_code_name"):  # IPython 8+; IPython 7 puts it in the name
        assert compiler.format_code_name(filename) == ("Cell", "In[7]")
    else:
        assert filename.startswith("<ipython-input-7-")


# -- Shim variables (tf1kit/store/variable.py) ---------------------------------

def test_keras_variable_value_is_a_property_read_through_autocast():
    """tf1kit/store/variable.py: TF1Variable.value wraps Keras' property (its
    getter, called by Keras' own code in keras/src), and TF's Saver finds
    saveables through a module-level function tf1kit wraps for dict var_lists."""
    from tensorflow.python.training.saving import saveable_object_util

    assert isinstance(keras.Variable.value, property)
    assert keras.Variable.value.fget.__code__.co_filename.startswith(
        str(pathlib.Path(keras.src.__file__).parent))
    assert parameters(saveable_object_util.saveable_objects_for_op) == ["op", "name"]
    assert "saveable_objects_for_op(op, name)" in inspect.getsource(
        saveable_object_util.validate_and_slice_inputs)


def test_graph_collections_are_a_dict_of_the_lists_get_collection_ref_returns():
    """tf1kit/decorator/eager_collections.py reads `Graph._collections` on
    every outermost eager call (TF's accessors lock and copy)."""
    graph = tf.Graph()
    held = graph.get_collection_ref("canary")
    held.append(1)
    assert graph._collections == {"canary": [1]} and graph._collections["canary"] is held


def test_tf_variable_takes_virtual_subclasses():
    # TF1Variable registers with tf.Variable's ABCMeta so that TF's optimizers,
    # slot creator, moving averages and TF1 code see a tf.Variable.
    assert issubclass(type(tf.Variable), abc.ABCMeta)
    assert issubclass(tf1_variable.TF1Variable, tf.Variable)


def test_tensor_equality_switch_is_a_class_flag():
    was_on = tf.Tensor._USE_EQUALITY
    try:
        tf.compat.v1.disable_tensor_equality()
        assert tf.Tensor._USE_EQUALITY is False
        tf.compat.v1.enable_tensor_equality()
        assert tf.Tensor._USE_EQUALITY is True
    finally:
        (tf.compat.v1.enable_tensor_equality if was_on
         else tf.compat.v1.disable_tensor_equality)()


def test_object_identity_reference_hashes_by_identity():
    variable = tf.Variable([1.0, 1.0])
    twin = tf.Variable([1.0, 1.0])
    assert variable.ref() == object_identity.Reference(variable)
    assert object_identity.Reference(variable) != object_identity.Reference(twin)
    assert object_identity.Reference(variable).deref() is variable


def test_keras_variable_hooks_tf1variable_overrides():
    variable = keras.Variable(np.ones(2, np.float32))
    # `_initialize(value)` creates the backing `_value`; `.value` returns it
    # unchanged outside stateless and autocast scopes.
    assert isinstance(variable._value, tf.Variable)
    assert variable.value is variable._value
    assert callable(getattr(keras.Variable, "_initialize"))
    assert isinstance(keras.Variable.value, property)
    # The scopes TF1Variable checks, under the names Keras keeps them.
    assert not in_stateless_scope()
    with StatelessScope():
        assert in_stateless_scope()
    assert global_state.get_global_attribute("autocast_scope") is None
    with keras.src.backend.AutocastScope("float16"):
        assert global_state.get_global_attribute("autocast_scope") is not None
        assert variable.value.dtype == tf.float16


def test_resource_variable_answers_what_tf1variable_passes_through():
    variable = tf.Variable([1.0, 2.0])
    for name in (*tf1_variable._BACKING_METHODS, *tf1_variable._BACKING_ATTRIBUTES,
                 "_in_graph_mode", "_unique_id", "_save_slice_info", "_graph_element"):
        assert hasattr(variable, name), name
    # Properties that raise eagerly (op, graph, initial_value) exist on the class.
    for name in ("initial_value", "initializer", "op", "graph", "device", "create"):
        assert hasattr(type(variable), name), name


def test_backing_variable_class_can_be_swapped_for_a_callable_subclass():
    variable = tf.Variable([1.0, 2.0])
    made = tf1_variable._make_callable(variable)
    assert made is variable and isinstance(variable, tf.Variable)
    np.testing.assert_allclose(variable(), [1.0, 2.0])
    assert type(variable).__name__ == "ResourceVariable"


def test_graph_variables_join_the_collections_tf_variable_names():
    with tf.Graph().as_default() as graph:
        variable = tf.Variable([1.0], trainable=True)
        assert variable._in_graph_mode
        for key in (tf.compat.v1.GraphKeys.GLOBAL_VARIABLES,
                    tf.compat.v1.GraphKeys.TRAINABLE_VARIABLES):
            assert graph.get_collection_ref(key)[-1] is variable


def test_tf1_saver_asks_gather_saveables_first():
    from tensorflow.python.training.saving import saveable_object_util

    class Marked(tf.Module):
        def _gather_saveables_for_checkpoint(self):
            return {"VARIABLE_VALUE": "marker"}

    assert saveable_object_util.saveable_objects_from_trackable(
        Marked(), tf1_saver=True) == {"VARIABLE_VALUE": "marker"}


# -- tf1kit.verify -------------------------------------------------------------

def test_dropout_funnel_in_nn_ops():
    """verify/dropout.py: every TF dropout (tf.nn.dropout, Keras 3's stateless
    dropout) goes through nn_ops._dropout(x, rate, noise_shape, ...)."""
    from tensorflow.python.ops import nn_ops

    parameters = list(inspect.signature(nn_ops._dropout).parameters)
    assert parameters[:3] == ["x", "rate", "noise_shape"]
    from tf1kit.verify.dropout import dropout_disabled

    x = tf.ones([4, 5])
    with dropout_disabled([]) as rates:
        plain = tf.nn.dropout(x, rate=0.5)
        keras_output = keras.layers.Dropout(0.25)(x, training=True)
    assert rates == [0.5, 0.25]
    assert bool(tf.reduce_all(plain == x)) and bool(tf.reduce_all(keras_output == x))


def test_keras_layer_names_come_from_object_name_uids():
    """verify/instances.py: Keras' automatic names count in global_state's
    "object_name_uids"; a world swaps in its own counter."""
    from tf1kit.verify.instances import own_keras_names

    def count(name):
        return 0 if name == "dense" else int(name.rsplit("_", 1)[1])

    before = count(keras.layers.Dense(1).name)
    with own_keras_names():
        assert keras.layers.Dense(1).name == "dense"
        assert keras.layers.Dense(1).name == "dense_1"
    assert count(keras.layers.Dense(1).name) == before + 1  # the process' counter resumed


def test_tf_keras_legacy_layers_and_tf2_switch():
    """verify/tf1_layers.py: tf-keras keeps TF's TF1 layers, and picks TF1
    initializers when tf.__internal__.tf2.enabled() (through tf.compat.v2) is False."""
    importlib.import_module("tf_keras.api._v1.keras.__internal__.legacy.layers")
    importlib.import_module("tf_keras.api._v1.keras.__internal__.legacy.rnn_cell")
    for name in ("convolutional", "core", "normalization", "pooling"):
        importlib.import_module(f"tf_keras.src.legacy_tf_layers.{name}")
    from tf1kit.verify.tf1_layers import original_tf1_layers
    from tf_keras.src import initializers

    with original_tf1_layers():
        assert tf.compat.v1.layers.dense.__module__ == "tf_keras.src.legacy_tf_layers.core"
        tf1_default = initializers.get("glorot_uniform")
    assert isinstance(tf1_default, tf.compat.v1.glorot_uniform_initializer)
    assert not isinstance(initializers.get("glorot_uniform"),
                          tf.compat.v1.glorot_uniform_initializer)


def test_tf1_optimizer_hyperparameter_attributes():
    """verify/optimizers.py reads TF1 optimizers' settings from these attributes."""
    adam = tf.compat.v1.train.AdamOptimizer(0.5, beta1=0.8, beta2=0.9, epsilon=1e-3)
    assert (adam._lr, adam._beta1, adam._beta2, adam._epsilon) == (0.5, 0.8, 0.9, 1e-3)
    assert tf.compat.v1.train.GradientDescentOptimizer(0.25)._learning_rate == 0.25
    momentum = tf.compat.v1.train.MomentumOptimizer(0.1, 0.7, use_nesterov=True)
    assert (momentum._momentum, momentum._use_nesterov) == (0.7, True)


def test_deprecation_printing_switch():
    """verify/tf1_world.py silences TF1 layers' deprecation messages with it;
    decorator/deprecation_checks.py turns off the argument checks of later
    eager calls with it: the wrapper reads the flag before binding arguments."""
    import inspect

    from tensorflow.python.util import deprecation

    assert isinstance(deprecation._PRINT_DEPRECATION_WARNINGS, bool)
    source = inspect.getsource(deprecation.deprecated_arg_values)
    check = source.index("if _PRINT_DEPRECATION_WARNINGS:")
    assert check < source.index("tf_inspect.getcallargs", check)


def test_global_seed_getter():
    """verify/api.py puts TensorFlow's global seed back after the determinism tool set it."""
    from tensorflow.python.eager import context

    tf.random.set_seed(7)
    assert context.global_seed() == 7
    tf.random.set_seed(None)
    assert context.global_seed() is None


# -- tf1kit.to_keras (tf1kit/convert/) -----------------------------------------

v1 = tf.compat.v1


def test_keras_layer_call_goes_through_an_instance_attribute():
    # recording.py borrows `call` on built-in Keras layers to see their calls.
    layer = keras.layers.Dense(2)
    seen = []
    original = layer.call

    def spy(*args, **kwargs):
        seen.append(args[0].shape)
        return original(*args, **kwargs)

    object.__setattr__(layer, "call", spy)
    layer(tf.ones([3, 4]))
    object.__delattr__(layer, "call")
    assert seen == [(3, 4)]
    assert [type(l).__name__ for l in keras.Sequential([layer])._flatten_layers()] == [
        "Sequential", "Dense"]


def test_captured_variables_and_op_tracebacks_in_a_traced_function():
    # recording.py maps captured placeholders to variables by handle, and
    # reports the user's line from op.traceback.
    variable = keras.Variable(tf.ones([2, 2]))

    def forward(x):
        return tf.matmul(x, variable.value)

    graph = tf.function(forward).get_concrete_function(tf.TensorSpec([None, 2])).graph
    externals = [external for external, _ in graph.captures]
    assert any(external is variable.value.handle for external in externals)
    matmul = next(op for op in graph.get_operations() if op.type == "MatMul")
    assert any(frame.filename == __file__ and frame.name == "forward"
               for frame in matmul.traceback)


def test_get_variable_reaches_the_stores_get_variable_method():
    # recording.py wraps the store's get_variable to see initializers and regularizers.
    class Layer(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x):
            return x * v1.get_variable("w", [], initializer=v1.ones_initializer())

    layer = Layer()
    layer(tf.ones([1]))
    store = find_store(layer)
    requests = []
    original = store.get_variable
    store.__dict__["get_variable"] = lambda *a, **k: requests.append(a[0]) or original(*a, **k)
    try:
        layer(tf.ones([1]))
    finally:
        del store.__dict__["get_variable"]
    assert requests == ["w"]


def test_eager_template_caches_its_variable_scope_context_manager():
    # recording.py puts this cache back after tracing (else later eager calls
    # of the template run in the trace's graph).
    template = v1.make_template("scale", lambda x: x * v1.get_variable(
        "s", [], initializer=v1.ones_initializer()))
    assert template._variable_scope_context_manager is None
    tf.function(template)(tf.ones([1]))
    assert template._variable_scope_context_manager is not None


def test_fused_batch_norm_kernel_averages_with_exponential_avg_factor():
    # The generated FusedBatchNormalization calls this raw op; tf1kit's fused
    # batch norm averages with it too (tf.compat.v1.nn.fused_batch_norm).
    x = tf.reshape(tf.range(8, dtype=tf.float32), [2, 2, 2, 1])
    _, mean, variance, _, _, _ = tf.raw_ops.FusedBatchNormV3(
        x=x, scale=tf.ones([1]), offset=tf.zeros([1]), mean=tf.zeros([1]),
        variance=tf.ones([1]), epsilon=1e-3, exponential_avg_factor=0.5,
        data_format="NHWC", is_training=True)
    values = tf.reshape(x, [-1]).numpy()
    assert abs(float(mean[0]) - 0.5 * values.mean()) < 1e-6
    unbiased = values.var() * 8 / 7
    assert abs(float(variance[0]) - (0.5 + 0.5 * unbiased)) < 1e-5


def test_traced_tensors_know_their_function_graph_and_keras_l1_holds_one():
    # tf1kit/store/regularizers.py: a Keras regularizer made in a trace holds
    # a constant of the FuncGraph (`graph.building_function`), in its __dict__.
    import keras

    seen = {}

    @tf.function
    def trace():
        seen["l1"] = keras.regularizers.L1(0.25)
        seen["graph"] = tf.constant(1.0).graph
        return tf.constant(0.0)

    trace()
    factor = vars(seen["l1"])["l1"]
    assert tf.is_symbolic_tensor(factor) and factor.graph.building_function
    assert seen["graph"].building_function is True
    assert tf.get_static_value(factor) == 0.25
    with tf.Graph().as_default() as graph:
        assert not getattr(graph, "building_function", False)


def test_rnn_functions_are_module_attributes_that_can_be_replaced():
    # recording.py records dynamic_rnn & co. by replacing the public names for
    # one trace (tf.compat.v1.nn is a TFModuleWrapper) and putting them back.
    import inspect

    original = v1.nn.dynamic_rnn
    assert "dynamic_rnn" in v1.nn.__dict__
    v1.nn.dynamic_rnn = "replaced"
    try:
        assert tf.compat.v1.nn.dynamic_rnn == "replaced"
    finally:
        v1.nn.dynamic_rnn = original
    assert v1.nn.dynamic_rnn is original
    # The argument names the converters read.
    for name, parameters in {
            "dynamic_rnn": ["cell", "inputs", "sequence_length", "initial_state",
                            "time_major", "scope"],
            "bidirectional_dynamic_rnn": ["cell_fw", "cell_bw", "initial_state_fw"],
            "static_rnn": ["cell", "inputs", "initial_state", "sequence_length"],
            "dropout": ["x", "keep_prob", "noise_shape", "seed", "rate"]}.items():
        signature = inspect.signature(getattr(v1.nn, name)).parameters
        assert all(p in signature for p in parameters), name


def test_slim_functions_carry_their_arg_scope_key_and_layer_norm_epsilon():
    # recording.py reads the arguments an arg_scope adds; functions.py writes
    # slim's layer_norm epsilon (1e-12, fixed in its source).
    import numpy as np
    import tf_slim as slim
    from tf_slim.ops.arg_scope import current_arg_scope

    with slim.arg_scope([slim.layer_norm], center=False):
        assert current_arg_scope()[slim.layer_norm._key_op] == {"center": False}
    with tf.Graph().as_default(), v1.Session() as session:
        x = tf.constant([[0.0, 2e-6]])  # variance 1e-12: epsilon counts as much
        output = slim.layer_norm(x, begin_norm_axis=-1, begin_params_axis=-1)
        session.run(v1.global_variables_initializer())
        value = session.run(output)
    np.testing.assert_allclose(value[0], [-np.sqrt(0.5), np.sqrt(0.5)], rtol=1e-3)


def test_keras_rnn_return_structure_and_cell_keyword_handling():
    # rnn.py unpacks `output, *states` (a stacked cell's state nested per cell),
    # Bidirectional's `y_fw, y_bw, *states_fw, *states_bw` and names, and the
    # cell wrappers pass `training` to cells whose call does not take it.
    class OneState(keras.layers.Layer):  # like the generated GRUCell: no get_initial_state
        state_size = output_size = 2

        def call(self, inputs, states):
            return inputs[:, :2] + states[0], [inputs[:, :2] + states[0]]

    x = tf.ones([2, 3, 4])
    stacked = keras.layers.RNN(keras.layers.StackedRNNCells(
        [keras.layers.LSTMCell(4), OneState()]), return_state=True)
    output, lstm_state, one_state = stacked(x)
    assert len(lstm_state) == 2 and tf.is_tensor(one_state)
    output, state = keras.layers.RNN(OneState(), return_state=True)(x)
    assert tf.is_tensor(state)
    bidirectional = keras.layers.Bidirectional(
        keras.layers.RNN(keras.layers.GRUCell(2), return_sequences=True, return_state=True,
                         name="fw"),
        backward_layer=keras.layers.RNN(keras.layers.GRUCell(2), return_sequences=True,
                                        return_state=True, go_backwards=True, name="bw"),
        merge_mode=None)
    assert len(bidirectional(x)) == 4
    assert bidirectional.forward_layer.name == "forward_fw"
    assert bidirectional.backward_layer.name == "bw"
    dense = keras.layers.Dense(2)
    assert dense(tf.ones([1, 2]), training=True).shape == (1, 2)


# -- tf1kit.rnn and TF-Slim ----------------------------------------------------

def test_tensorflow_rnn_internals():
    from tensorflow.python.ops import rnn, rnn_cell, rnn_cell_impl

    assert callable(rnn_cell_impl.assert_like_rnncell)
    assert list(inspect.signature(rnn_cell_impl._concat).parameters) == ["prefix", "suffix",
                                                                         "static"]
    assert rnn.rnn_cell_impl is rnn_cell_impl  # the rnn functions duck-type through it
    for name in ("LSTMCell", "MultiRNNCell", "LSTMStateTuple", "LayerRNNCell"):
        assert hasattr(rnn_cell_impl, name) and hasattr(rnn_cell, name)
    assert "rnn_cell" in vars(tf.compat.v1.nn)  # the lazy loader install() replaces


def test_tf_nest_and_tracking_internals():
    nest = tf.__internal__.nest
    assert nest.get_traverse_shallow_structure(lambda s: True, (1, 2)) == (True, True)
    assert nest.map_structure_up_to((1, 2), lambda a, b: a + b, (1, 2), (3, 4)) == (4, 6)
    assert hasattr(tf.Module(), "_track_trackable")


def test_tf_slim_internals():
    import tf_slim  # noqa: F401
    import sys

    slim_layers, slim_utils = sys.modules["tf_slim.layers.layers"], sys.modules["tf_slim.layers.utils"]
    assert "ops" in vars(slim_layers)  # its name_scope is what tf1kit swaps eagerly
    assert list(inspect.signature(slim_utils.collect_named_outputs).parameters) == [
        "collections", "alias", "outputs"]


def test_tf_slim_builds_its_layers_through_a_renaming_getter():
    """compat/slim.py trusts the code of slim's `layer_variable_getter` (it only
    renames kernel/bias and returns the variable), so functional_cache may reuse
    a layer slim constructs with `_scope=sc` under it."""
    import sys

    import tf_slim  # noqa: F401

    slim_layers = sys.modules["tf_slim.layers.layers"]
    getter = slim_layers._build_variable_getter({"kernel": "weights"})
    assert getter.__code__.co_freevars == ("rename",)
    assert "_model_variable_getter" in getter.__code__.co_names
    from tf1kit.compat.slim import slim_targets
    from tf1kit.layers import functional_cache

    slim_targets()  # what tf1kit.install() runs; it registers slim's getter
    assert getter.__code__ in functional_cache.renaming_getter_codes


def test_eager_tensors_answer_their_shape_as_a_tuple():
    """layers/input_spec.py reads eager shapes without building a TensorShape."""
    from tensorflow.python.framework.ops import EagerTensor

    tensor = tf.zeros([2, 3, 1])
    assert isinstance(tensor, EagerTensor)
    assert tensor._shape_tuple() == (2, 3, 1)


def test_function_call_options_are_per_thread_and_hold_grapplers_config():
    # tf1kit.verify.as_written: verify's tf.functions run without the
    # arithmetic optimizer through the calling thread's function options.
    import copy

    from tensorflow.core.protobuf import config_pb2, rewriter_config_pb2

    eager = context.context()
    saved = eager.function_call_options
    config = config_pb2.ConfigProto.FromString(saved.config_proto_serialized)
    config.graph_options.rewrite_options.arithmetic_optimization = (
        rewriter_config_pb2.RewriterConfig.OFF)
    changed = copy.copy(saved)
    changed.config_proto_serialized = config
    seen = []
    eager.function_call_options = changed
    try:
        worker = threading.Thread(
            target=lambda: seen.append(context.context().function_call_options is changed))
        worker.start()
        worker.join()
        assert eager.function_call_options is changed and seen == [False]
        assert "config_proto" in changed.as_attrs()
    finally:
        eager.function_call_options = saved


def test_keras_traceback_filter_reads_its_excluded_paths_at_filter_time():
    """decorator/traceback_filter.py adds tf1kit's folder to these paths."""
    from keras.src.utils import traceback_utils

    assert isinstance(traceback_utils._EXCLUDED_PATHS, tuple)
    saved = traceback_utils._EXCLUDED_PATHS
    try:
        traceback_utils._EXCLUDED_PATHS = (*saved, "/some/where/")
        assert not traceback_utils.include_frame("/some/where/x.py")
        assert traceback_utils.include_frame("/some/else/x.py")
    finally:
        traceback_utils._EXCLUDED_PATHS = saved
