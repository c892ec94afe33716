"""`track_tf1_style_variables`: run TF1 forward-pass code inside Keras 3.

Each decorated object (a Keras layer, model or `tf.Module`) owns one
`VariableStore`. While a decorated method runs, that store answers every
`tf.compat.v1.get_variable` in the calling thread, so variables are created on
the first call and reused afterwards, and each new variable becomes a tracked
weight of the owner.

Guarantees (see README, "Interrupts, threads and damaged files"): threads
racing a first call share one set of variables; an exception or
KeyboardInterrupt anywhere in a call leaves the store, the owner's weights, the
variable scope and the nesting depth as a completed or an untouched creation
would; an observer that fails is detached, never the model.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import threading
import types
import warnings

import keras
import tensorflow as tf
from tensorflow.python.eager import context
from tensorflow.python.framework import ops
from tensorflow.python.ops import variable_scope as tf_variable_scope

from tf1kit.decorator import deprecation_checks, eager_collections, traceback_filter  # noqa: F401
from tf1kit.store import VariableStore, reuse_fast_path
from tf1kit.store.scope_hooks import active
from tf1kit.store.variable import outside_keras_call

# The official shim's attribute name: object-based checkpoints written with
# it (`layer/_tf1_style_var_store/_vars/<name>`) restore into tf1kit.
_STORE_ATTRIBUTE = "_tf1_style_var_store"
# Graph collection of the layers get_or_create_layer made in a TF1 graph.
GRAPH_LAYERS_COLLECTION = "tf1kit_get_or_create_layer"
# Two threads making the first call of one owner must not make two stores.
_store_creation_lock = threading.Lock()
_NO_ATTRIBUTES: dict = {}


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

    remembers_inputs = method.__name__ == "call"

    @functools.wraps(method)
    def tracked(self, *args, **kwargs):
        store = getattr(self, "__dict__", _NO_ATTRIBUTES).get(_STORE_ATTRIBUTE)
        if store is None:
            if remembers_inputs and isinstance(self, keras.layers.Layer):
                _remember_call_inputs(self, args, kwargs)
            store = store_of(self, method)
        if _call_observers or not store.first_call_done:
            return _guarded_call(store, method, self, args, kwargs)
        return _call_in_store(store, method, self, args, kwargs)

    tracked._tf1kit_tracked = True
    return _TrackedMethod(tracked)


def _guarded_call(store, method, owner, args, kwargs):
    """The first call of an owner runs under its store's lock, so threads that
    race it wait and then reuse what it created, native Keras sub-layers
    included (Keras' own lazy `build` is not safe to race). Observers are
    called around the call here too.

    Not in a distribution strategy's replica context: there the strategy runs
    its replica threads one at a time and hands over at cross-replica steps
    (`all_reduce`), which a replica waiting for the lock would never reach.
    """
    if store.first_call_done:
        return _observed_call(store, method, owner, args, kwargs)
    if tf.distribute.has_strategy() and not tf.distribute.in_cross_replica_context():
        return _observed_call(store, method, owner, args, kwargs)
    with store._creation_lock:
        if _call_observers:
            result = _observed_call(store, method, owner, args, kwargs)
        else:
            result = _call_in_store(store, method, owner, args, kwargs)
        store.first_call_done = True
        return result


def _call_in_store(store, method, owner, args, kwargs):
    """Runs `method` with `store` answering get_variable in this thread.

    Every change to thread state is made inside `try` and undone in `finally`,
    so an interrupt at any point leaves nothing half set. The outermost call
    also restores TF's variable scope, name scope and scope counters: TF1
    built the forward pass once, in a graph of its own; a shim runs it on
    every call, and starting each call from empty counters gives `dense`, not
    `dense_2`, on the second call (the official shim leaks new variables
    there), eagerly and in a tf.function alike.
    """
    state = active
    outer_store, outer_graph, depth = state.store, state.graph, state.depth
    scopes = collections = None
    quiet = False
    try:
        state.depth = depth + 1
        if depth == 0:
            scope_store = tf_variable_scope.get_variable_scope_store()
            eager = context.context()
            saved_scope = scope_store.current_scope
            saved_reuse = saved_scope._reuse  # reuse_variables() on it must not outlive the call
            saved_counts = scope_store.variable_scopes_count
            saved_name_scope = eager.scope_name
            scopes = scope_store  # from here on, `finally` restores the scope store
            # A TF1 model was built in a graph of its own: unnamed scopes
            # count from zero whatever ran before at the root, eagerly, in a
            # tf.function or in an earlier call.
            scope_store.variable_scopes_count = {}
            if eager.executing_eagerly():
                collections = eager_collections.begin_eager_call()
                if store.first_call_done:
                    quiet = True
                    deprecation_checks.begin()
        state.graph = ops.get_default_graph()
        state.store = store
        store.begin_call()
        return method(owner, *args, **kwargs)
    except (TypeError, ValueError) as exc:
        named = _name_the_variable(exc)
        if named is exc:
            raise
        raise named from exc
    finally:
        state.store, state.graph, state.depth = outer_store, outer_graph, depth
        if scopes is not None:
            # TF's variable_scope can leave its name scope open when interrupted
            # on entry; the outermost call puts back what it found.
            scopes.current_scope = saved_scope
            saved_scope._reuse = saved_reuse
            scopes.variable_scopes_count = saved_counts
            eager.scope_name = saved_name_scope
        if collections is not None:
            eager_collections.end_eager_call(collections)
        if quiet:
            deprecation_checks.end()


def _name_the_variable(exc):
    """TensorFlow checks some get_variable arguments before the variable has a
    name (its dtype against the initializer's; the name itself, joined by
    `scope + "/" + name`); say which variable. Runs only on the error path."""
    traceback = exc.__traceback__
    while traceback is not None and traceback.tb_next is not None:
        traceback = traceback.tb_next
    if traceback is None or traceback.tb_frame.f_code is not _SCOPE_GET_VARIABLE:
        return exc
    name, scope = traceback.tb_frame.f_locals.get("name"), traceback.tb_frame.f_locals.get("self")
    scope_name = getattr(scope, "name", "")
    if not isinstance(name, str):
        return TypeError(
            f"get_variable: a variable name must be a string, got {name!r} "
            f"({type(name).__name__}) in variable_scope {scope_name!r}.")
    full_name = f"{scope_name}/{name}" if scope_name else name
    if full_name in str(exc):
        return exc
    try:
        return type(exc)(f"Variable {full_name}: {exc}")
    except Exception:  # an exception class with a constructor of its own
        return exc


# TensorFlow's own method (reuse_fast_path wraps it; its checks raise in here).
_SCOPE_GET_VARIABLE = reuse_fast_path._tensorflow_scope_get_variable.__code__


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
        if owner.build is keras.layers.Layer.build:
            owner.build = _build_creates_nothing
        if owner._lock_state is keras.layers.Layer._lock_state:
            owner._lock_state = _keep_state_open
        if owner.build_from_config in _KERAS_BUILD_FROM_CONFIG:
            owner.build_from_config = _build_from_config_creating_variables
        if owner.get_build_config is keras.layers.Layer.get_build_config:
            owner.get_build_config = _build_config_with_call_inputs
    elif issubclass(owner, tf.Module):
        if "regularization_losses" not in dir(owner):
            owner.regularization_losses = property(_module_regularization_losses)


_KERAS_BUILD_FROM_CONFIG = (keras.layers.Layer.build_from_config, keras.Model.build_from_config)


def _build_creates_nothing(self, input_shape):
    """TF1 code creates its variables during the call, not in `build`.

    Without a build of its own, Keras 3 would build a layer that has unbuilt
    sublayers by tracing `call` symbolically first: the forward pass would
    run twice and native sublayers would draw their initial values after the
    TF1 ones, so seeds would no longer line up with TF1's order.
    """
    del input_shape


def _keep_state_open(self):
    """Keras locks a layer's state after `build`; TF1 code creates variables
    and sub-layers (`self.inner = keras.layers.Dense(3)`) during the call.

    Keras' own Functional and Sequential models stay open the same way. A lock
    toggled per call would also race between threads.
    """


# -- saving: what `.keras` files need to create the variables on load --------

_CALL_INPUTS_ATTRIBUTE = "_tf1kit_call_inputs"


def _remember_call_inputs(owner, args, kwargs):
    """The first call's tensor inputs (shapes, dtypes, structure) as JSON data."""
    try:
        spec = {"args": [_input_spec(a) for a in args],
                "kwargs": {k: _input_spec(v) for k, v in kwargs.items()
                           if _input_spec(v) is not None}}
    except Exception:  # unusual inputs: loading falls back to Keras' input_shape
        return
    owner.__dict__[_CALL_INPUTS_ATTRIBUTE] = spec


def _input_spec(value):
    if isinstance(value, dict):
        return {"dict": {str(k): _input_spec(v) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return {"tuple" if isinstance(value, tuple) else "list": [_input_spec(v) for v in value]}
    shape, dtype = getattr(value, "shape", None), getattr(value, "dtype", None)
    if shape is not None and dtype is not None:
        return {"shape": [None if d is None else int(d) for d in tuple(shape)],
                "dtype": tf.as_dtype(getattr(dtype, "name", dtype)).name}
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"value": value}
    return None


def _symbolic_input(spec):
    if spec is None:
        return None
    if "dict" in spec:
        return {k: _symbolic_input(v) for k, v in spec["dict"].items()}
    if "tuple" in spec:
        return tuple(_symbolic_input(v) for v in spec["tuple"])
    if "list" in spec:
        return [_symbolic_input(v) for v in spec["list"]]
    if "shape" in spec:
        return keras.KerasTensor(tuple(spec["shape"]), dtype=spec["dtype"])
    return spec["value"]


def _build_config_with_call_inputs(self):
    config = keras.layers.Layer.get_build_config(self)
    call_inputs = self.__dict__.get(_CALL_INPUTS_ATTRIBUTE)
    if call_inputs is not None:
        config = {**(config or {}), "tf1kit_call_inputs": call_inputs}
    return config


def _build_from_config_creating_variables(self, config):
    """When Keras loads a saved layer, create the TF1 variables the weights go into.

    Loading builds the layer, then expects its variables to exist; TF1 code
    only creates them in `call`, so trace the call once on the saved inputs:
    every positional and keyword tensor, with its dtype, in its structure.
    """
    config = config or {}
    keras.layers.Layer.build_from_config(self, config)
    if self.weights:
        return
    from keras.src import backend

    call_inputs = config.get("tf1kit_call_inputs")
    if call_inputs is not None:
        args = [_symbolic_input(spec) for spec in call_inputs["args"]]
        kwargs = {k: _symbolic_input(spec) for k, spec in call_inputs["kwargs"].items()}
        backend.compute_output_spec(self.call, *args, **kwargs)
    elif config.get("input_shape") is not None:  # files saved before tf1kit recorded inputs
        backend.compute_output_spec(self.call, keras.KerasTensor(config["input_shape"]))


# -- observers ----------------------------------------------------------------

_call_observers: list = []


def add_call_observer(observer) -> None:
    """Runs `observer(owner, args, kwargs)` as each decorated call starts.

    It may return `finished(error)`, run when the call ends (error is None on
    success). The notebook inspector and `%tf1debug` watch calls this way;
    with no observer a call pays one list check. Adding an observer twice
    keeps one. An observer that raises is detached with a warning: a tool
    that watches the model never breaks it.
    """
    if observer not in _call_observers:
        _call_observers.append(observer)


def remove_call_observer(observer) -> None:
    _call_observers.remove(observer)


def is_call_observer(observer) -> bool:
    """Whether `observer` is attached (an observer that failed was detached)."""
    return observer in _call_observers


def _observed_call(store, method, owner, args, kwargs):
    finishers = []
    for observe in tuple(_call_observers):
        try:
            finish = observe(owner, args, kwargs)
        except Exception as exc:
            _detach(observe, "start", owner, exc)
            continue
        if finish is not None:
            finishers.append((observe, finish))
    error = None
    try:
        return _call_in_store(store, method, owner, args, kwargs)
    except BaseException as exc:  # KeyboardInterrupt included: observers log it
        error = exc
        raise
    finally:
        for observe, finish in finishers:
            try:
                finish(error)
            except Exception as exc:
                _detach(observe, "finish", owner, exc)


def _detach(observer, stage, owner, exc):
    if observer in _call_observers:
        _call_observers.remove(observer)
    label = getattr(owner, "name", None) or type(owner).__name__
    warnings.warn(
        f"tf1kit: the call observer {getattr(observer, '__qualname__', observer)!r} raised "
        f"{type(exc).__name__}: {exc} at the {stage} of a call of {label!r}; it was "
        "detached and the call itself went on.", RuntimeWarning, stacklevel=3)


# -- stores -------------------------------------------------------------------

def store_of(owner, method=None) -> VariableStore:
    """The store of a decorated owner, created on first use."""
    store = getattr(owner, "__dict__", _NO_ATTRIBUTES).get(_STORE_ATTRIBUTE)
    if store is not None:
        return store
    if not isinstance(owner, (tf.Module, keras.layers.Layer)):
        where = f" {method.__qualname__}" if method is not None else ""
        raise NotAnOwnerError(
            f"track_tf1_style_variables:{where} was called with "
            f"{type(owner).__name__!r} as `self`, which does not extend "
            "keras.layers.Layer, keras.Model or tf.Module; the decorated method "
            "must belong to a subclass of one of them.")
    with _store_creation_lock:
        store = owner.__dict__.get(_STORE_ATTRIBUTE)
        if store is None:
            store = _new_store(owner)
    return store


def _new_store(owner):
    """A store wired to `owner`, attached last so a half-made one is never seen."""
    store = VariableStore()
    _adapt_owner_class(type(owner))  # also for methods attached after class creation
    if isinstance(owner, keras.layers.Layer):
        store.on_variable_created = functools.partial(_track_in_layer, owner, "variable")
        store.on_variable_removed = functools.partial(_untrack_in_layer, owner, "variable")
        store.on_layer_created = functools.partial(_track_in_layer, owner, "layer")
        store.on_layer_removed = functools.partial(_untrack_in_layer, owner, "layer")
        owner._tracker.unlock()  # Keras locked it at build; see _keep_state_open
    # A tracked attribute, so tf.train.Checkpoint and SavedModel see the variables.
    setattr(owner, _STORE_ATTRIBUTE, store)
    return store


class NotAnOwnerError(TypeError, ValueError):
    """A decorated method called on an object that cannot own variables.

    A TypeError (a wrong kind of `self`), and a ValueError as the official
    shim raises there, so code catching either keeps working.
    """


def find_store(owner) -> VariableStore | None:
    """The store of `owner` if it has run a decorated method, else None."""
    return getattr(owner, "__dict__", _NO_ATTRIBUTES).get(_STORE_ATTRIBUTE)


@contextlib.contextmanager
def store_scope(store: VariableStore):
    """Makes `store` answer get_variable in this thread, outside a decorated call."""
    state = active
    outer_store, outer_graph, depth = state.store, state.graph, state.depth
    try:
        state.depth = depth + 1
        state.graph = ops.get_default_graph()
        state.store = store
        yield store
    finally:
        state.store, state.graph, state.depth = outer_store, outer_graph, depth


def get_or_create_layer(name: str, create_layer_method):
    """Creates a nested Keras layer/model once per scope and reuses it after."""
    store = tf_variable_scope._get_default_variable_store()
    if not isinstance(store, VariableStore):
        if not tf.compat.v1.executing_eagerly_outside_functions():
            # TF1 graph: no store to track it in. The graph's collection lets a
            # TF1 program (verify's TF1 world) find its weights and losses.
            layer = create_layer_method()
            tf.compat.v1.add_to_collection(GRAPH_LAYERS_COLLECTION, layer)
            return layer
        raise ValueError(
            f"get_or_create_layer({name!r}) was called outside a method decorated "
            "with track_tf1_style_variables.")
    scope_name = tf.compat.v1.get_variable_scope().name
    key = f"{scope_name}/{name}" if scope_name else name
    layer = store._layers.get(key)
    if layer is None:
        with store._creation_lock:
            layer = store._layers.get(key)
            if layer is None:
                with tf.init_scope(), outside_keras_call():
                    layer = create_layer_method()
                store.add_layer(key, layer)
    return layer


def _track_in_layer(layer, kind, value):
    tracker = layer._tracker
    if tracker.locked:
        tracker.unlock()  # a class adapted after Keras built the layer; see _keep_state_open
    if kind == "variable":
        layer._track_variable(value)
    elif isinstance(value, keras.layers.Layer) and not tracker.is_in_store("layers", value):
        tracker.add_to_store("layers", value)


def _untrack_in_layer(layer, kind, value):
    if kind == "variable":
        layer._untrack_variable(value)
    else:
        layer._tracker.untrack(value)


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
    for candidate in (module, *module.submodules):
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
