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

import tf1kit  # noqa: F401 - installs its hooks; the checks read TensorFlow's originals
from tf1kit import _versions
from tf1kit.store import scope_hooks

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
    code = tf_variable_scope.VariableScope.get_variable.__code__
    assert code.co_varnames[:3] == ("self", "var_store", "name")
    assert "full_name" in code.co_varnames


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
