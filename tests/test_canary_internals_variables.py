"""Canaries: the TensorFlow and Keras internals that tf1kit/store/variable.py
relies on. A failure here names the internal that moved; the behaviour tests
in tests/test_variable_api.py say what it breaks."""

import abc

import keras
import numpy as np
import tensorflow as tf
from keras.src.backend.common import global_state
from keras.src.backend.common.stateless_scope import StatelessScope, in_stateless_scope
from tensorflow.python.util import object_identity

from tf1kit.store import variable as tf1_variable


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
