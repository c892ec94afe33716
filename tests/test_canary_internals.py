"""Canaries: the Keras 3 / TensorFlow internals tf1kit relies on still behave.

When one fails after an upgrade, the message names the tf1kit module that
needs the internal, so the fix starts in the right place.
"""

import keras
import numpy as np
import tensorflow as tf
from keras.src import backend
from keras.src.backend.common import global_state


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
    assert backend.get_autocast_scope() is None
    with backend.AutocastScope("float16"):
        assert backend.get_autocast_scope().dtype == "float16"
        assert tf.convert_to_tensor(variable).dtype == tf.float16
        with backend.AutocastScope(None):
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
