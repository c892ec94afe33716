"""The variable store behind every decorated method.

TensorFlow's own `_VariableStore` still implements TF1's `get_variable`
semantics (scope reuse, custom getters, default initializers, dtype and shape
checks). This store inherits all of that and changes only what must change on
Keras 3: variables are created once, eagerly, as `TF1Variable`s, and their
regularizers ride on the variable so Keras evaluates them live.
"""

from __future__ import annotations

import inspect

import tensorflow as tf
from tensorflow.python.ops import variable_scope as tf_variable_scope

from tf1kit.store.variable import TF1Variable, outside_keras_call

_AUTO = tf.VariableSynchronization.AUTO
_NO_AGGREGATION = tf.VariableAggregation.NONE


class VariableStore(tf.Module, tf_variable_scope._VariableStore):
    """Holds the TF1-style variables and nested layers of one layer or module."""

    def __init__(self):
        tf.Module.__init__(self, name="tf1kit_store")
        tf_variable_scope._VariableStore.__init__(self)
        # Eager execution would otherwise forget variables between calls.
        self._store_eager_variables = True
        self._layers = {}
        # tf.Module owners discover their variables here (TF1Variable counts
        # as a tf.Variable), the same objects their TF1 layers hold.
        # Untracked (no checkpoint dependency): the keras variables in `_vars`
        # are what checkpoints save.
        object.__setattr__(self, "_tf_variables", {})
        self.on_variable_created = None
        self.on_layer_created = None
        self.begin_call()

    # -- what the decorator and the notebook side read ----------------------
    @property
    def variables_by_name(self) -> dict:
        return dict(self._vars)

    @property
    def nested_layers(self) -> dict:
        return dict(self._layers)

    def begin_call(self):
        # Plain lists: tf.Module would wrap them in ListWrappers, whose append
        # costs O(length) and made a call with N variables O(N^2).
        object.__setattr__(self, "created_in_call", [])
        object.__setattr__(self, "used_in_call", [])

    def regularization_losses(self) -> list:
        """Live regularization losses of every regularized variable, in order."""
        losses = [v.regularizer(v) for v in self._vars.values() if v.regularizer is not None]
        for layer in self._layers.values():
            losses.extend(getattr(layer, "losses", []))
        return losses

    def add_regularizer(self, variable, regularizer):
        """Regularizes a stored variable (TF's legacy layers call this)."""
        variable.regularizer = regularizer

    def drop(self, name: str):
        """Forgets a variable (used when a redefined cell no longer needs it)."""
        self._tf_variables.pop(name, None)
        return self._vars.pop(name)

    def restore(self, variable):
        """Takes back a variable that `drop` removed."""
        self._keep(variable)

    def _keep(self, variable):
        self._vars[variable.tf1_name] = variable
        self._tf_variables[variable.tf1_name] = variable

    # -- TF1 semantics: inherited get_variable calls these -------------------
    def _get_partitioned_variable(self, name, partitioner, *args, **kwargs):
        raise ValueError(
            f"Variable {name} was requested with partitioner={partitioner!r}: "
            "partitioned variables are not supported inside "
            "track_tf1_style_variables (TF2 places a variable on one device; "
            "use a distribution strategy instead). Remove the partitioner "
            "from get_variable or its variable_scope.")

    def _get_single_variable(
        self, name, shape=None, dtype=tf.float32, initializer=None,
        regularizer=None, partition_info=None, reuse=None, trainable=None,
        collections=None, caching_device=None, validate_shape=True,
        use_resource=None, constraint=None, synchronization=_AUTO,
        aggregation=_NO_AGGREGATION):
        del collections, caching_device, use_resource  # no graph collections in TF2
        dtype = tf.as_dtype(dtype)
        if shape is not None:
            shape = tf.TensorShape(shape)
        if initializer is not None and not callable(initializer) and shape is not None:
            raise ValueError(
                f"Variable {name}: if initializer is a constant, do not specify shape.")
        if name in self._vars:
            return self._existing_variable(name, shape, dtype)
        if reuse is True:
            raise ValueError(
                f"Variable {name} does not exist, or was not created with "
                "tf.get_variable(). Did you mean to set reuse=tf.AUTO_REUSE in VarScope?")
        value = self._initial_value(name, shape, dtype, initializer, partition_info)
        variable = self._create(name, value, trainable, validate_shape,
                                synchronization, aggregation)
        variable.constraint = constraint
        if regularizer is not None and regularizer(variable) is not None:
            # TF1 kept only regularizers that produce a loss.
            variable.regularizer = regularizer
        self._keep(variable)
        self.created_in_call.append(name)
        self.used_in_call.append(name)
        if self.on_variable_created is not None:
            self.on_variable_created(variable)
        return variable

    def _existing_variable(self, name, shape, dtype):
        found = self._vars[name]
        if shape is not None and not shape.is_compatible_with(found.get_shape()):
            raise ValueError(
                f"Trying to share variable {name}, but specified shape {shape} "
                f"and found shape {found.get_shape()}.")
        if not dtype.is_compatible_with(found.tf_dtype):
            raise ValueError(
                f"Trying to share variable {name}, but specified dtype {dtype.name} "
                f"and found dtype {found.tf_dtype.name}.")
        self.used_in_call.append(name)
        return found

    def _initial_value(self, name, shape, dtype, initializer, partition_info):
        """Evaluates the initializer eagerly, drawing seeds exactly as TF1 did."""
        if initializer is None:
            if shape is None:
                raise ValueError(
                    f"Variable {name} did not get an initializer, so its `shape` "
                    "argument must be specified.")
            initializer, _ = self._get_default_initializer(name=name, shape=shape, dtype=dtype)
        with tf.init_scope():
            if not callable(initializer):
                return tf.convert_to_tensor(initializer)
            if inspect.isclass(initializer):
                initializer = initializer()
            if shape is not None and shape.is_fully_defined():
                kwargs = {"dtype": dtype}
                if _accepts(initializer, "partition_info"):
                    kwargs["partition_info"] = partition_info
                return tf.convert_to_tensor(initializer(shape.as_list(), **kwargs), dtype=dtype)
            if tf_variable_scope._needs_no_arguments(initializer):
                return tf.convert_to_tensor(initializer())
        raise ValueError(
            f"Variable {name}: the initializer {initializer!r} needs a fully "
            f"defined shape, got shape={shape}.")

    def _create(self, name, value, trainable, validate_shape, synchronization, aggregation):
        if not validate_shape:
            raise ValueError(
                f"Variable {name}: validate_shape=False is not supported; Keras 3 "
                "variables need a fully defined shape.")
        with tf.init_scope(), outside_keras_call():
            return TF1Variable(
                name,
                initializer=value,
                dtype=value.dtype.name,
                trainable=True if trainable is None else bool(trainable),
                synchronization=_keras_enum(synchronization),
                aggregation=_keras_enum(aggregation),
            )


def _keras_enum(value) -> str:
    """tf.VariableSynchronization.ON_READ -> 'on_read' (Keras 3 spelling)."""
    return value.name.lower() if hasattr(value, "name") else str(value)


def _accepts(fn, parameter: str) -> bool:
    try:
        return parameter in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
