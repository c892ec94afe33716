"""Eager reuse without TensorFlow's argument processing.

After the first call, every `get_variable` of a decorated call finds a
variable that exists. TensorFlow still runs its whole creation path for it:
scope defaults, a name scope, argument validation, the custom-getter
machinery and `_true_getter`, several times the cost of the lookup itself.

`VariableScope.get_variable` is wrapped: when the store is a tf1kit store, the
variable exists, and nothing in the call or the scope could change the answer
(no custom getter, no partitioner, an initializer that is not a constant, no
`get_variable` wrapped on the store instance; synchronization and aggregation
are validated as TensorFlow validates them), the variable is returned after
the same shape and dtype checks `_get_single_variable` makes. Everything else,
creation included, takes TensorFlow's path unchanged. Nothing is cached: the
store's own dictionary is the lookup, so `drop_variable`, a new scope or a
new `reuse` can never meet a stale answer.
"""

from __future__ import annotations

from tensorflow.python.ops import variable_scope as tf_variable_scope
from tensorflow.python.ops import variables as tf_variables

_AUTO = tf_variables.VariableSynchronization.AUTO
_NO_AGGREGATION = tf_variables.VariableAggregation.NONE
# tf.VariableAggregation (V2) is another enum than compat.v1's; both mean "none".
_DEFAULT_AGGREGATIONS = (_NO_AGGREGATION, tf_variables.VariableAggregationV2.NONE)

_tensorflow_scope_get_variable = tf_variable_scope.VariableScope.get_variable


def _scope_get_variable(self, var_store, name, shape=None, dtype=None, initializer=None,
                        regularizer=None, reuse=None, trainable=None, collections=None,
                        caching_device=None, partitioner=None, validate_shape=True,
                        use_resource=None, custom_getter=None, constraint=None,
                        synchronization=_AUTO, aggregation=_NO_AGGREGATION):
    found = None
    if (getattr(var_store, "_tf1kit_reuse_fast_path", False)
            # A store whose get_variable is wrapped on the instance (to_keras
            # records every request that way) must see every request.
            and "get_variable" not in var_store.__dict__
            and type(name) is str
            and custom_getter is None and self._custom_getter is None
            and partitioner is None and self._partitioner is None
            and (initializer is None or callable(initializer))
            and (initializer is not None or self._initializer is None
                 or callable(self._initializer))):
        full_name = f"{self.name}/{name}" if self.name else name
        variables = var_store._vars
        if full_name in variables and f"{full_name}/part_0" not in variables:
            if synchronization is not _AUTO or aggregation not in _DEFAULT_AGGREGATIONS:
                # The slow path rejects bad combinations even on reuse; so does this.
                tf_variables.validate_synchronization_aggregation_trainable(
                    synchronization, aggregation, trainable, full_name)
            found = var_store.reuse_existing(
                variables[full_name], full_name, shape, self._dtype if dtype is None else dtype)
    if found is not None:
        return found
    return _tensorflow_scope_get_variable(
        self, var_store, name, shape=shape, dtype=dtype, initializer=initializer,
        regularizer=regularizer, reuse=reuse, trainable=trainable, collections=collections,
        caching_device=caching_device, partitioner=partitioner,
        validate_shape=validate_shape, use_resource=use_resource,
        custom_getter=custom_getter, constraint=constraint,
        synchronization=synchronization, aggregation=aggregation)


def install() -> None:
    tf_variable_scope.VariableScope.get_variable = _scope_get_variable


install()
