"""Regularizers that outlive the function graph they were made in.

Keras 3's `L1` and `OrthogonalRegularizer` turn their factor into a tensor
when made. TF1 code makes regularizers inline in its forward pass, so when
that pass is first traced (`model.fit` on a fresh model, a first call under
`tf.function`) the factor is a constant of a function graph that is gone
once the trace ends, while the store computes regularization losses later,
whenever `losses` is read. TF1 and tf_keras held Python floats there.
"""

from __future__ import annotations

import copy

import keras
import tensorflow as tf


def outliving_traces(regularizer):
    """`regularizer`, or a copy whose tensor factors made inside a function
    graph are the same constants made outside it.

    Only Keras regularizers are copied, and only when every such tensor is a
    constant; anything else (a plain callable, a factor computed from other
    tensors) is returned as it is.
    """
    if not isinstance(regularizer, keras.regularizers.Regularizer):
        return regularizer
    traced = {name: value for name, value in getattr(regularizer, "__dict__", {}).items()
              if _in_function_graph(value)}
    if not traced:
        return regularizer
    constants = {name: tf.get_static_value(value) for name, value in traced.items()}
    if any(constant is None for constant in constants.values()):
        return regularizer
    kept = copy.copy(regularizer)
    with tf.init_scope():
        for name, constant in constants.items():
            setattr(kept, name, tf.constant(constant, dtype=traced[name].dtype))
    return kept


def _in_function_graph(value) -> bool:
    return (isinstance(value, tf.Tensor) and tf.is_symbolic_tensor(value)
            and getattr(value.graph, "building_function", False))
