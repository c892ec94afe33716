"""Where each world gets its own copy of the layer, and what its variables are called.

Every world builds a fresh instance, so it draws its own initial values under
the determinism tool and the user's objects are never trained or changed. A
fresh instance comes from a factory (when `verify` was given a function), the
constructor arguments of a `%%tf1layer` instance, or Keras' `get_config` /
`from_config`. An object that cannot be rebuilt is used itself: its values
are put back afterwards, and the report says its initial values were not
drawn by `verify`.

Variables are named the TF1 way where they have a TF1 name (`get_variable`,
`tf.compat.v1.layers`, TF-Slim), and by their Keras path below the owner
otherwise (`conv2d/kernel`). Keras' automatic layer names (`dense_3`), and
eagerly TF1's automatic scope names too, depend on how many layers the process
made before; each world therefore builds under counters of its own, so the
same code gives the same names everywhere.
"""

from __future__ import annotations

import collections
import contextlib
import inspect

import keras
import numpy as np
import tensorflow as tf
from keras.src.backend.common import global_state
from tensorflow.python.ops import variable_scope as tf_variable_scope

from tf1kit.decorator import find_store, stores_below


class CannotRebuild(Exception):
    """The object cannot be copied into a fresh, unbuilt instance."""


class Source:
    """The layer (or native model) a world starts from."""

    def __init__(self, obj, role: str):
        self.role = role
        if _is_model_object(obj):
            self.original = obj
            self._factory, self.rebuild_problem = _rebuilder(obj)
        elif callable(obj):
            self.original = None
            self._factory, self.rebuild_problem = obj, None
        else:
            raise TypeError(
                f"tf1kit.verify: {role} must be a Keras layer or model, a tf.Module, a "
                f"%%tf1layer instance or a function returning one; got {type(obj).__name__}.")

    @property
    def can_rebuild(self) -> bool:
        return self._factory is not None

    def fresh(self):
        """A new, unbuilt instance (call inside the world's scopes)."""
        if self._factory is None:
            raise CannotRebuild(self.rebuild_problem)
        instance = self._factory()
        if not _is_model_object(instance):
            raise TypeError(
                f"tf1kit.verify: the {self.role} factory returned {type(instance).__name__}, "
                "not a Keras layer or model, tf.Module or %%tf1layer instance.")
        return instance

    def describe(self) -> str:
        """The class (or factory): instance names carry Keras' process-wide counters."""
        if self.original is None:
            return f"{getattr(self._factory, '__qualname__', 'factory')}()"
        return type(self.original).__name__


def _is_model_object(obj) -> bool:
    return isinstance(obj, (keras.layers.Layer, tf.Module))


def _rebuilder(obj):
    """(factory, None) or (None, why not)."""
    cell_args = obj.__dict__.get("_tf1kit_cell_args")
    if cell_args is not None and not isinstance(obj, keras.layers.Layer):
        name = obj.name
        return (lambda: type(obj)(name=name, **cell_args)), None
    if isinstance(obj, keras.layers.Layer):
        try:
            config = obj.get_config()
        except NotImplementedError:
            return None, (f"{type(obj).__name__} has no get_config() (its constructor takes "
                          "values Keras cannot serialize)")
        return (lambda: type(obj).from_config(config)), None
    return None, f"{type(obj).__name__} is a tf.Module, which has no config to rebuild it from"


@contextlib.contextmanager
def own_keras_names():
    """Keras names layers from a process-wide counter; a world counts on its own."""
    saved = global_state.get_global_attribute("object_name_uids")
    global_state.set_global_attribute("object_name_uids", collections.defaultdict(int))
    try:
        yield
    finally:
        global_state.set_global_attribute("object_name_uids", saved)


@contextlib.contextmanager
def own_tf1_scope_names():
    """TF1 numbers auto-named scopes (`dense`, `dense_1`) per graph; eagerly the
    counts live for the whole process, so an eager world starts them afresh,
    as the TF1 world's new graph does."""
    counts = tf_variable_scope.get_variable_scope_store().variable_scopes_count
    saved = dict(counts)
    counts.clear()
    try:
        yield
    finally:
        counts.clear()
        counts.update(saved)


@contextlib.contextmanager
def collections_put_back():
    """Eagerly, TF1 collections (TF-Slim's end points, losses, ...) belong to one
    process-wide graph; what a world adds there is taken out again afterwards."""
    graph = tf.compat.v1.get_default_graph()
    saved = {key: list(graph.get_collection_ref(key)) for key in graph.get_all_collection_keys()}
    try:
        yield
    finally:
        for key in graph.get_all_collection_keys():
            if key in saved:
                graph.get_collection_ref(key)[:] = saved[key]
            else:
                graph.clear_collection(key)


def undecorated_forward(instance):
    """The forward pass without the decorator: plain TF1 code for a TF1 graph.

    For a `%%tf1layer` instance this is the cell's code itself.
    """
    definition = getattr(type(instance), "_tf1kit_definition", None)
    if definition is not None:
        arguments = {name: getattr(instance, name, default)
                     for name, default in definition.arg_defaults.items()}

        def cell_forward(*inputs, training=None):
            return definition.forward(instance, *inputs, training=training, **arguments)

        cell_forward._tf1kit_definition = definition
        return cell_forward
    method_name = "call" if isinstance(instance, keras.layers.Layer) else "__call__"
    method = getattr(type(instance), method_name)
    if getattr(method, "_tf1kit_tracked", False):
        method = method.__wrapped__

    def forward(*inputs, **kwargs):
        return method(instance, *inputs, **kwargs)

    forward.__signature__ = _signature_without_self(method)
    return forward


def _signature_without_self(method):
    try:
        signature = inspect.signature(method)
    except (TypeError, ValueError):
        return None
    parameters = list(signature.parameters.values())[1:]
    return signature.replace(parameters=parameters)


def call_target(instance):
    """What `positional_inputs` / `takes_training` inspect for a decorated call."""
    definition = getattr(type(instance), "_tf1kit_definition", None)
    if definition is not None:
        return undecorated_forward(instance)
    if isinstance(instance, keras.layers.Layer):
        return instance.call
    return instance.__call__


def owner_variables(instance) -> dict:
    """Name -> variable of everything `instance` holds, in creation order."""
    found = {}
    seen = set()

    def add(variable, owner_name):
        if id(variable) in seen or not _is_float(variable):
            return
        seen.add(id(variable))
        name = variable_name(variable, owner_name)
        if name in found:  # two Keras layers of the same name under different owners
            name = f"{name}#{sum(1 for n in found if n.split('#')[0] == name) + 1}"
        found[name] = variable

    if isinstance(instance, keras.layers.Layer):
        for variable in instance.weights:
            add(variable, instance.name)
        return found
    for store in stores_below(instance):
        for variable in store.variables_by_name.values():
            add(variable, "")
    backing = {id(getattr(v, "value", None)) for v in found.values()}
    for leaf in instance._flatten(predicate=lambda value: isinstance(
            value, (keras.layers.Layer, tf.Variable, keras.Variable))):
        if isinstance(leaf, keras.layers.Layer):
            for variable in leaf.weights:
                add(variable, "")
        elif id(leaf) not in backing:
            add(leaf, "")
    return found


def variable_name(variable, owner_name: str = "") -> str:
    tf1_name = getattr(variable, "tf1_name", None)
    if tf1_name is not None:
        return tf1_name
    path = getattr(variable, "path", None) or variable.name.split(":")[0]
    if owner_name and path.startswith(owner_name + "/"):
        return path[len(owner_name) + 1:]
    return path


def trainable_names(instance, variables: dict) -> list:
    if isinstance(instance, keras.layers.Layer):
        trainable = {id(v) for v in instance.trainable_weights}
        return [name for name, v in variables.items() if id(v) in trainable]
    return [name for name, v in variables.items() if getattr(v, "trainable", True)]


def read(variables: dict) -> dict:
    return {name: np.array(tf.convert_to_tensor(v)) for name, v in variables.items()}


def assign(variables: dict, values: dict):
    for name, value in values.items():
        if name in variables:
            variables[name].assign(value)


def has_stateful_children(instance) -> bool:
    """Whether `instance` holds layers or modules whose state a TF1 graph cannot share."""
    if isinstance(instance, keras.layers.Layer):
        if any(layer.weights for layer in instance._flatten_layers(include_self=False)):
            return True
    store = find_store(instance)
    modules = instance.submodules if isinstance(instance, tf.Module) else ()
    return any(module is not store and not _is_store(module) for module in modules)


def _is_store(module) -> bool:
    from tf1kit.store import VariableStore

    return isinstance(module, VariableStore)


def _is_float(variable) -> bool:
    try:
        return tf.as_dtype(variable.dtype).is_floating
    except TypeError:
        return False


def losses_of(instance) -> list:
    """The regularization (and other added) losses the owner trains with: Keras'
    `losses`, else a tf.Module's `losses` or `regularization_losses` property."""
    for attribute in ("losses", "regularization_losses"):
        losses = getattr(instance, attribute, None)
        if losses is not None and not callable(losses):
            return list(losses)
    return []


def regularizers_of(variables: dict) -> dict:
    """Name -> regularizer for variables that carry one (tf1kit and Keras 3 alike)."""
    return {name: v.regularizer for name, v in variables.items()
            if getattr(v, "regularizer", None) is not None}
