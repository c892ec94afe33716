"""Functional calls keep their built layer object between eager calls.

`tf.compat.v1.layers.conv2d(x, 8, 3, name="conv")` and TF-Slim's layer
functions construct a new layer object on every call; on the shim every
forward pass runs again, so each call paid for a `tf.Module`, a variable
scope and a `build` that only finds the variables it found last time.

Inside a decorated call, eagerly, a functional call site reuses the built
layer of its previous call when TF1 would have produced the same thing:

- the same layer class, variable scope name, `reuse`, arguments, mixed-precision
  policy and Keras-style mode (the key). Initializers, regularizers and
  constraints of variables are not part of it: they act only when a variable
  is created, and a reused layer's variables all exist (TF1's get_variable
  ignored them on reuse too; code that builds new ones per call still hits);
- every variable the layer holds is still the store's variable of that name
  (`drop_variable`, a redefined `%%tf1layer` cell or a new owner miss);
- no custom getter that could answer differently runs in the scope (only
  getters registered as plain renamers, TF-Slim's own, are allowed);
- the inputs have the dtype and shape (batch aside) the layer was built for;
  otherwise it builds again, as a new layer would.

On a hit the scope counters move as the constructor's scope entry moved
them (its call enters its scope again anyway), and its variables are
reported as used in this call, as `get_variable` would have reported them.
One entry per (class, scope name): the cache is bounded by the call sites.
"""

from __future__ import annotations

import threading

import tensorflow as tf
from tensorflow.python.ops import variable_scope as tf_variable_scope

from tf1kit.layers import experimental, mixed_precision
from tf1kit.layers.input_spec import static_dims

# Code objects of custom getters that only rename and return the variable.
# compat/slim.py registers TF-Slim's `layer_variable_getter` here.
renaming_getter_codes: set = set()

_CREATION_ONLY_SUFFIXES = ("_initializer", "_regularizer", "_constraint")
# Guards the busy flag: a layer runs one call at a time. TF1 gave every call
# (and so every thread) a layer object of its own; a call site that another
# thread is running gets a new, uncached layer.
_busy_lock = threading.Lock()
_PLAIN = (str, int, float, bool, type(None), tf.DType)


def construct(layer_class, kwargs: dict, recording: bool = False):
    """`layer_class(**kwargs)`, or the built layer this call site made last time."""
    store = tf_variable_scope._get_default_variable_store()
    cache = getattr(store, "functional_layers", None)
    if cache is None or recording or not tf.executing_eagerly():
        return layer_class(**kwargs)
    scope = kwargs.get("_scope")
    scope_name = _cacheable_scope_name(scope)
    if scope_name is None:
        return layer_class(**kwargs)
    site = (layer_class, scope_name)
    context = (mixed_precision.global_mixed_dtypes(), experimental.in_keras_style())
    cached = cache.get(site)
    arguments = None
    if cached is not None and cached[1] == context:
        layer = cached[2]
        # The same argument objects as last time (the common case) need no key.
        same = same_objects = _same_objects(kwargs, layer)
        if not same:
            arguments = _arguments_key(kwargs)
            same = arguments is not None and arguments == cached[0]
        if same and layer.built and _variables_current(layer, store) and _claim(layer):
            if isinstance(scope, str):
                # The constructor entered `variable_scope(scope)`: what that
                # leaves behind is the name claimed and its sub-scopes closed.
                scopes = tf_variable_scope.get_variable_scope_store()
                scopes.open_variable_scope(scope_name)
                scopes.close_variable_subscopes(scope_name)
            # The call's own arguments, for a rebuild (see Layer.__call__).
            if same_objects:
                layer._functional_kwargs = kwargs
            else:
                _remember_arguments(layer, kwargs)
            store.used_in_call.extend(v.tf1_name for v in layer._ordered_weights)
            return layer
    if arguments is None:
        arguments = _arguments_key(kwargs)
    layer = layer_class(**kwargs)
    if arguments is not None:
        layer._functional_key = (arguments, context)
        _remember_arguments(layer, kwargs)
        layer._functional_busy = True  # until its call ends (Layer.__call__)
        cache[site] = (arguments, context, layer)
    return layer


def _claim(layer) -> bool:
    with _busy_lock:
        if layer._functional_busy:
            return False
        layer._functional_busy = True
        return True


def release(layer):
    """Called as a reused layer's call ends, however it ends."""
    layer._functional_busy = False


def renew_if_inputs_differ(layer, inputs):
    """A reused layer meeting inputs of another dtype or shape is initialized
    again, so it builds (and checks its variables) as a new layer would."""
    signature = input_signature(inputs)
    if layer.built and signature != layer._built_signature:
        type(layer).__init__(layer, **layer._functional_kwargs)
    if not layer.built:
        layer._built_signature = signature


def input_signature(inputs):
    """What a build depends on: dtype and shape without the batch axis."""
    shape = getattr(inputs, "shape", None)
    dtype = getattr(inputs, "dtype", None)
    if shape is None or dtype is None or not hasattr(shape, "rank"):
        return object()  # unknown: equal to nothing, so the layer builds again
    dims = static_dims(inputs)
    if dims is None:
        return object()
    return dtype, dims[1:]


def _cacheable_scope_name(scope):
    """The full scope name the layer will use, or None when it may not be reused
    (no scope of its own, or a custom getter that could answer differently)."""
    if isinstance(scope, tf.compat.v1.VariableScope):
        scope_name, getter = scope.name, scope.custom_getter
    elif isinstance(scope, str) and scope:
        current = tf.compat.v1.get_variable_scope()
        scope_name = f"{current.name}/{scope}" if current.name else scope
        getter = current.custom_getter
    else:
        return None
    if getter is not None and getattr(getter, "__code__", None) not in renaming_getter_codes:
        return None
    return scope_name


def _same_objects(kwargs, layer) -> bool:
    """The same argument names, and the same objects for those that count."""
    if kwargs.keys() != layer._functional_kwargs.keys():
        return False
    for name, value in layer._functional_compared:
        if kwargs[name] is not value:
            return False
    return True


def _remember_arguments(layer, kwargs):
    layer._functional_kwargs = kwargs
    layer._functional_compared = tuple(
        (name, value) for name, value in kwargs.items()
        if name != "_scope" and not _creation_only(name))


def _creation_only(name: str) -> bool:
    """Arguments that act only when a variable is created (activity
    regularizers act on every call)."""
    return name.endswith(_CREATION_ONLY_SUFFIXES) and name != "activity_regularizer"


def _arguments_key(kwargs):
    """The arguments as a hashable key, or None if some cannot be compared."""
    arguments = []
    for name, value in kwargs.items():
        if name == "_scope" or _creation_only(name):
            continue
        if name == "use_bias":
            value = bool(value)  # slim passes its bias initializer here; truth is what counts
        else:
            value = _hashable(value)
        if value is _UNHASHABLE:
            return None
        arguments.append((name, value))
    arguments = tuple(arguments)
    try:
        hash(arguments)
    except TypeError:
        return None
    return arguments


_UNHASHABLE = object()


def _hashable(value):
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, (list, tuple)):
        items = tuple(_hashable(v) for v in value)
        return _UNHASHABLE if _UNHASHABLE in items else (type(value), items)
    if isinstance(value, tf.compat.v1.VariableScope):
        return ("scope", value.name)
    if callable(value):
        return value  # functions compare by identity: a new lambda is a new key
    return _UNHASHABLE


def _variables_current(layer, store) -> bool:
    variables = store._vars
    for variable in layer._ordered_weights:
        name = getattr(variable, "tf1_name", None)
        if name is None or name not in variables or variables[name] is not variable:
            return False
    return True
