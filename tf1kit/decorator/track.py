"""`track_tf1_style_variables`: run TF1 forward-pass code inside Keras 3.

Each decorated object (a Keras layer, model or `tf.Module`) owns one
`VariableStore`. While a decorated method runs, that store answers every
`tf.compat.v1.get_variable`, so variables are created on the first call and
reused afterwards, and each new variable becomes a tracked weight of the owner.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import threading
import types

import keras
import tensorflow as tf
from keras.src.utils import python_utils as keras_utils
from tensorflow.python.ops import variable_scope as tf_variable_scope

from tf1kit.store import VariableStore
from tf1kit.store.variable import outside_keras_call

# The official shim's attribute name: object-based checkpoints written with
# it (`layer/_tf1_style_var_store/_vars/<name>`) restore into tf1kit.
_STORE_ATTRIBUTE = "_tf1_style_var_store"
_active = threading.local()


def track_tf1_style_variables(method):
    """Decorates a method of a Keras layer/model or `tf.Module` (see README)."""
    if isinstance(method, (staticmethod, classmethod)) or not callable(method):
        raise TypeError(
            "track_tf1_style_variables decorates instance methods of a "
            "keras.layers.Layer, keras.Model or tf.Module; got "
            f"{method!r}.")
    if not _takes_self(method):
        raise TypeError(
            f"track_tf1_style_variables: {method.__qualname__} takes no `self`; "
            "decorate a method of a keras.layers.Layer, keras.Model or tf.Module.")

    @functools.wraps(method)
    def tracked(self, *args, **kwargs):
        store = store_of(self, method)
        if _call_observers:
            return _observed_call(store, method, self, args, kwargs)
        with store_scope(store):
            return method(self, *args, **kwargs)

    tracked._tf1kit_tracked = True
    return _TrackedMethod(tracked)


class _TrackedMethod:
    """The decorated method; as a descriptor it also learns its owner class."""

    def __init__(self, function):
        self._function = function
        functools.update_wrapper(self, function)

    def __set_name__(self, owner, name):
        _adapt_owner_class(owner)

    def __get__(self, instance, owner=None):
        if instance is None:
            return self._function
        return types.MethodType(self._function, instance)

    def __call__(self, *args, **kwargs):
        return self._function(*args, **kwargs)


def _adapt_owner_class(owner):
    if issubclass(owner, keras.layers.Layer):
        if keras_utils.is_default(owner.build):
            owner.build = _build_creates_nothing
        if owner.build_from_config in _KERAS_BUILD_FROM_CONFIG:
            owner.build_from_config = _build_from_config_creating_variables
    elif issubclass(owner, tf.Module):
        if "regularization_losses" not in dir(owner):
            owner.regularization_losses = property(_module_regularization_losses)


_KERAS_BUILD_FROM_CONFIG = (keras.layers.Layer.build_from_config, keras.Model.build_from_config)


def _build_from_config_creating_variables(self, config):
    """When Keras loads a saved layer, create the TF1 variables the weights go into.

    Loading builds the layer, then expects its variables to exist; TF1 code
    only creates them in `call`, so trace the call once on the saved input shape.
    """
    keras.layers.Layer.build_from_config(self, config)
    input_shape = (config or {}).get("input_shape")
    if input_shape is not None and not self.weights:
        from keras.src import backend

        backend.compute_output_spec(self.call, backend.KerasTensor(input_shape))


def _build_creates_nothing(self, input_shape):
    """TF1 code creates its variables during the call, not in `build`.

    Without a build of its own, Keras 3 would build a layer that has unbuilt
    sublayers by tracing `call` symbolically first: the forward pass would
    run twice and native sublayers would draw their initial values after the
    TF1 ones, so seeds would no longer line up with TF1's order.
    """
    del input_shape


_call_observers: list = []


def add_call_observer(observer) -> None:
    """Runs `observer(owner, args, kwargs)` as each decorated call starts.

    It may return `finished(error)`, run when the call ends (error is None on
    success). The notebook inspector and `%tf1debug` watch calls this way;
    with no observer a call pays one list check.
    """
    _call_observers.append(observer)


def remove_call_observer(observer) -> None:
    _call_observers.remove(observer)


def _observed_call(store, method, owner, args, kwargs):
    finishers = [finish for finish in (observe(owner, args, kwargs)
                                       for observe in tuple(_call_observers)) if finish]
    error = None
    try:
        with store_scope(store):
            return method(owner, *args, **kwargs)
    except BaseException as exc:  # KeyboardInterrupt included: observers log it
        error = exc
        raise
    finally:
        for finish in finishers:
            finish(error)


def store_of(owner, method=None) -> VariableStore:
    """The store of a decorated owner, created on first use."""
    store = owner.__dict__.get(_STORE_ATTRIBUTE) if hasattr(owner, "__dict__") else None
    if store is not None:
        return store
    if not isinstance(owner, tf.Module) and not isinstance(owner, keras.layers.Layer):
        where = f" {method.__qualname__}" if method is not None else ""
        raise TypeError(
            f"track_tf1_style_variables:{where} was called with "
            f"{type(owner).__name__!r} as `self`; the decorated method must belong "
            "to a subclass of keras.layers.Layer, keras.Model or tf.Module.")
    store = VariableStore()
    # A tracked attribute, so tf.train.Checkpoint and SavedModel see the variables.
    setattr(owner, _STORE_ATTRIBUTE, store)
    if isinstance(owner, keras.layers.Layer):
        store.on_variable_created = functools.partial(_track_in_layer, owner, "variable")
        store.on_layer_created = functools.partial(_track_in_layer, owner, "layer")
    else:
        _adapt_owner_class(type(owner))  # for methods attached after class creation
    return store


def find_store(owner) -> VariableStore | None:
    """The store of `owner` if it has run a decorated method, else None."""
    return getattr(owner, "__dict__", {}).get(_STORE_ATTRIBUTE)


@contextlib.contextmanager
def store_scope(store: VariableStore):
    """Makes `store` answer get_variable; keeps names stable across calls."""
    depth = getattr(_active, "depth", 0)
    counts = None
    if depth == 0:
        # TF1 built the forward pass once; a shim runs it on every call. Starting
        # each outermost call from the same scope counters gives `dense`, not
        # `dense_2`, on the second call (the official shim leaks new variables).
        counts = dict(tf_variable_scope.get_variable_scope_store().variable_scopes_count)
    store.begin_call()
    _active.depth = depth + 1
    try:
        with tf_variable_scope.with_variable_store(store):
            yield store
    finally:
        _active.depth = depth
        if counts is not None:
            scope_store = tf_variable_scope.get_variable_scope_store()
            scope_store.variable_scopes_count.clear()
            scope_store.variable_scopes_count.update(counts)


def get_or_create_layer(name: str, create_layer_method):
    """Creates a nested Keras layer/model once per scope and reuses it after."""
    store = tf_variable_scope._get_default_variable_store()
    if not isinstance(store, VariableStore):
        if not tf.compat.v1.executing_eagerly_outside_functions():
            return create_layer_method()  # TF1 graph: no tracking, as in TF1
        raise ValueError(
            f"get_or_create_layer({name!r}) was called outside a method decorated "
            "with track_tf1_style_variables.")
    scope_name = tf.compat.v1.get_variable_scope().name
    key = f"{scope_name}/{name}" if scope_name else name
    if key not in store._layers:
        with tf.init_scope(), outside_keras_call():
            layer = create_layer_method()
        store._layers[key] = layer
        if store.on_layer_created is not None:
            store.on_layer_created(layer)
    return store._layers[key]


@contextlib.contextmanager
def _unlocked(layer):
    """Lets a Keras layer take new state after Keras locked it at build time."""
    tracker = layer._tracker
    was_locked = tracker.locked
    tracker.unlock()
    try:
        yield tracker
    finally:
        if was_locked:
            tracker.lock()


def _track_in_layer(layer, kind, value):
    with _unlocked(layer) as tracker:
        if kind == "variable":
            layer._track_variable(value)
        elif isinstance(value, keras.layers.Layer):
            tracker.add_to_store("layers", value)


def drop_variable(owner, name: str):
    """Forgets a TF1 variable: out of the owner's store and its Keras weights."""
    variable = find_store(owner).drop(name)
    if isinstance(owner, keras.layers.Layer):
        owner._untrack_variable(variable)  # Keras unlocks for this itself
    return variable


def restore_variable(owner, variable):
    """Puts back a variable that `drop_variable` removed."""
    find_store(owner).restore(variable)
    if isinstance(owner, keras.layers.Layer):
        _track_in_layer(owner, "variable", variable)


def _module_regularization_losses(module):
    """Live regularization losses of the TF1-style variables of a tf.Module.

    Includes nested decorated modules and layers from get_or_create_layer.
    """
    losses = []
    for store in stores_below(module):
        losses.extend(store.regularization_losses())
        calls_losses = store.__dict__.get("activity_losses")  # tf1kit.layers' add_loss
        if calls_losses is not None and calls_losses[0] is store.created_in_call:
            losses.extend(calls_losses[1])  # only the last call's
    return losses


def stores_below(module):
    """The stores of `module` and of every decorated tf.Module inside it."""
    seen = set()
    for candidate in [module, *module._flatten(predicate=lambda m: isinstance(m, tf.Module))]:
        store = find_store(candidate)
        if store is not None and id(store) not in seen:
            seen.add(id(store))
            yield store


def _takes_self(method) -> bool:
    try:
        parameters = list(inspect.signature(method).parameters.values())
    except (TypeError, ValueError):
        return True
    return bool(parameters) and parameters[0].kind in (
        inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.VAR_POSITIONAL)
