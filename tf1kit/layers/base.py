"""`Layer`: the base of every TF1 layer, and of user subclasses.

A TF1 layer is a function with a remembered variable scope. It is a
`tf.Module`, not a Keras layer: its variables come from
`tf.compat.v1.get_variable`, so inside a decorated Keras layer they land in
that owner's store and are tracked (and regularized) once, by the owner.

Scoping follows TF1: the scope is chosen on the first call
(`variable_scope(None, default_name="dense")` gives `dense`, `dense_1`, ...),
kept, and re-entered with `reuse=True` afterwards, so calling the same object
twice shares its variables.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import re

import numpy as np
import tensorflow as tf
from tensorflow.python.ops import variable_scope as tf_variable_scope

from tf1kit.layers.arguments import get_constraint, get_initializer, get_regularizer
from tf1kit.layers.input_spec import check_input

# tf1kit.to_keras appends a recorder here while it traces a forward pass; each
# layer call then reports itself (when empty, a call pays one list check).
call_recorders: list = []

# Keras 2 layer arguments TF1 code passes that change nothing here.
_HARMLESS_KWARGS = frozenset(
    {"autocast", "input_shape", "batch_input_shape", "batch_size", "dynamic",
     "weights", "input_dim", "experimental_autocast"})


class Layer(tf.Module):
    """Base class of the TF1 layers (`tf.compat.v1.layers.Layer`)."""

    # Bookkeeping that tf.Module's variable/submodule walk must not enter.
    _TF_MODULE_IGNORED_PROPERTIES = frozenset(
        tf.Module._TF_MODULE_IGNORED_PROPERTIES
        | {"_weight_regularizers", "_activity_losses", "_updates", "_scope",
           "_current_scope", "activity_regularizer"})

    def __init__(self, trainable=True, name=None, dtype=None, **kwargs):
        scope = kwargs.pop("_scope", None)
        reuse = kwargs.pop("_reuse", None)
        activity_regularizer = kwargs.pop("activity_regularizer", None)
        unknown = sorted(set(kwargs) - _HARMLESS_KWARGS)
        if unknown:
            raise TypeError(
                f"{type(self).__name__}: keyword argument not understood: {unknown[0]!r}")
        if isinstance(name, tf.compat.v1.VariableScope):
            name = name.name
        base_name = name or _snake_case(type(self).__name__)
        if tf.executing_eagerly():
            super().__init__(name=_module_identifier(base_name))
        else:
            # In a graph, tf.Module's constructor claims the name scope "dense";
            # TF1 left it to the variable scope, so ops are "dense/MatMul".
            with tf.Graph().as_default():
                super().__init__(name=_module_identifier(base_name))
        self._base_name = base_name
        self._given_name = name
        self._reuse = reuse
        self.trainable = trainable
        self.dtype = tf.as_dtype(dtype).name if dtype is not None else None
        self.activity_regularizer = get_regularizer(activity_regularizer)
        self.input_spec = None
        self.built = False
        self._trainable_weights = []
        self._non_trainable_weights = []
        self._weight_regularizers = []
        self._activity_losses = []
        self._updates = []
        self._own_store = None
        self._current_scope = None
        self._scope = None
        if scope:
            # Functional forms pass name as scope: the name is used as given
            # (not uniquified), so a second call with the same name shares.
            with tf.compat.v1.variable_scope(scope) as captured:
                self._scope = captured

    # Keras 3's Dense and Conv1D/2D/3D save their kernel as `_kernel`. Tracking
    # the kernel under both names lets an object-based checkpoint of this layer
    # restore into the TF1 layer (`kernel`) and into its Keras 3 replacement.
    _keras3_kernel_alias = False

    def __setattr__(self, name, value):
        # tf.Module wraps and tracks every attribute, which costs more than the
        # layer itself on each functional call. Only trackable values (the
        # variables, nested modules) need it, for checkpoints.
        if isinstance(value, tf.__internal__.tracking.Trackable):
            super().__setattr__(name, value)
            if name == "kernel" and self._keras3_kernel_alias:
                super().__setattr__("_kernel", value)
        else:
            object.__setattr__(self, name, value)

    # -- naming --------------------------------------------------------------
    @property
    def name(self):
        if self._given_name:
            return self._given_name
        if self._scope is not None:
            return self._scope.name.rsplit("/", 1)[-1]
        return self._base_name

    @property
    def scope_name(self):
        if self._scope is None:
            raise ValueError(
                f'No name available for layer scope because the layer "{self.name}" '
                "has not been used yet. The scope name is determined the first "
                "time the layer instance is called. You must therefore call the "
                "layer before querying `scope_name`.")
        return self._scope.name

    def _set_scope(self, scope=None):
        if self._scope is not None:
            return
        if self._reuse:
            with tf.compat.v1.variable_scope(
                    scope if scope is not None else self._base_name) as captured:
                self._scope = captured
        else:
            with tf.compat.v1.variable_scope(scope, default_name=self._base_name) as captured:
                self._scope = captured

    # -- calling -------------------------------------------------------------
    def __call__(self, inputs, *args, **kwargs):
        finish_recording = call_recorders[-1](self, inputs, kwargs) if call_recorders else None
        scope = kwargs.pop("scope", None)
        with self._variable_store():
            self._set_scope(scope)
            reuse = True if self.built else self._reuse
            with tf.compat.v1.variable_scope(
                    self._scope, reuse=reuse, auxiliary_name_scope=False) as current:
                self._current_scope = current
                with _op_name_scope(self._scope):
                    inputs = _to_tensors(inputs, self.dtype)
                    if not self.built:
                        self._build_for(inputs)
                    self._check_inputs(inputs)
                    if _call_accepts(type(self), "scope"):
                        kwargs["scope"] = current
                    for optional in ("training", "mask"):
                        # Keras-style callers pass these to every layer.
                        if optional in kwargs and not _call_accepts(type(self), optional):
                            del kwargs[optional]
                    outputs = self.call(inputs, *args, **kwargs)
                    self._regularize_activity(outputs)
        if not tf.compat.v1.executing_eagerly_outside_functions():
            _add_to_collection(tf.compat.v1.GraphKeys.UPDATE_OPS, self._updates)
        if finish_recording is not None:
            finish_recording(outputs)
        return outputs

    def apply(self, *args, **kwargs):
        return self(*args, **kwargs)

    def build(self, input_shape):
        self.built = True

    def call(self, inputs, **kwargs):
        return inputs

    def _build_for(self, inputs):
        first = tf.nest.flatten(inputs)[0]
        if self.dtype is None:
            dtype = tf.as_dtype(first.dtype)
            self.dtype = dtype.name if dtype.is_floating else "float32"
        self._check_inputs(inputs)
        shapes = tf.nest.map_structure(lambda t: tf.TensorShape(t.shape), inputs)
        self.build(shapes)
        self.built = True

    def _check_inputs(self, inputs):
        if self.input_spec is not None and tf.is_tensor(inputs):
            check_input(self.input_spec, inputs, self.name)

    def _regularize_activity(self, outputs):
        self._activity_losses = []
        if self.activity_regularizer is None:
            return
        for output in tf.nest.flatten(outputs):
            batch = tf.cast(tf.shape(output)[0], output.dtype)
            self.add_loss(self.activity_regularizer(output) / batch)

    @contextlib.contextmanager
    def _variable_store(self):
        """Outside a decorated call (and outside a TF1 graph) the layer keeps
        its own store, so it still creates its variables once."""
        current = tf_variable_scope._get_default_variable_store()
        if (not tf.compat.v1.executing_eagerly_outside_functions()
                or getattr(current, "_store_eager_variables", False)):
            yield
            return
        if self._own_store is None:
            from tf1kit.store import VariableStore

            self._own_store = VariableStore()
        with tf_variable_scope.with_variable_store(self._own_store):
            yield

    # -- state ---------------------------------------------------------------
    def add_weight(self, name, shape, dtype=None, initializer=None, regularizer=None,
                   trainable=None, constraint=None, use_resource=None,
                   synchronization=tf.VariableSynchronization.AUTO,
                   aggregation=tf.VariableAggregation.NONE, partitioner=None, **kwargs):
        """Gets or creates `<layer scope>/<name>` through get_variable."""
        unknown = sorted(set(kwargs) - {"experimental_autocast"})
        if unknown:
            raise TypeError(f"add_weight({name!r}): unknown keyword argument {unknown[0]!r}")
        if synchronization == tf.VariableSynchronization.ON_READ:
            if trainable:
                raise ValueError(
                    f"add_weight({name!r}): synchronization=ON_READ is only allowed "
                    "for non-trainable variables, but trainable=True was given.")
            trainable = False
        elif trainable is None:
            trainable = True
        dtype = tf.as_dtype(dtype or self.dtype or tf.float32)
        regularizer = get_regularizer(regularizer)
        with self._variable_store():
            self._set_scope(None)
            reuse = True if self.built else self._reuse
            with tf.compat.v1.variable_scope(
                    self._scope, reuse=reuse, auxiliary_name_scope=False):
                variable = tf.compat.v1.get_variable(
                    name, shape=shape, dtype=dtype,
                    initializer=get_initializer(initializer),
                    regularizer=regularizer,
                    trainable=bool(trainable and self.trainable),
                    constraint=get_constraint(constraint),
                    partitioner=partitioner, use_resource=use_resource,
                    synchronization=synchronization, aggregation=aggregation)
        self._remember(variable, regularizer)
        return variable

    add_variable = add_weight

    def _remember(self, variable, regularizer):
        known = self._trainable_weights + self._non_trainable_weights
        if any(v is variable for v in known):
            return
        if getattr(variable, "trainable", True):
            self._trainable_weights.append(variable)
        else:
            self._non_trainable_weights.append(variable)
        if regularizer is not None:
            self._weight_regularizers.append((variable, regularizer))

    @property
    def trainable_weights(self):
        return list(self._trainable_weights) if self.trainable else []

    @property
    def non_trainable_weights(self):
        if self.trainable:
            return list(self._non_trainable_weights)
        return self._trainable_weights + self._non_trainable_weights

    @property
    def weights(self):
        return self.trainable_weights + self.non_trainable_weights

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights
    variables = weights

    def get_weights(self):
        return [np.asarray(tf.convert_to_tensor(v)) for v in self.weights]

    def set_weights(self, values):
        weights = self.weights
        if len(values) != len(weights):
            raise ValueError(
                f"Layer {self.name} has {len(weights)} weights; set_weights got "
                f"{len(values)} values.")
        for variable, value in zip(weights, values):
            variable.assign(value)

    @property
    def losses(self):
        """Weight regularization (live) and the last call's activity losses."""
        weight_losses = [reg(v) for v, reg in self._weight_regularizers]
        return [loss for loss in weight_losses if loss is not None] + list(self._activity_losses)

    def add_loss(self, loss):
        """Adds a tensor loss (e.g. activity regularization) for this call.

        As in TF1, where such losses joined REGULARIZATION_LOSSES, it also
        reaches the decorated Keras layer whose store made this layer's
        variables, so `owner.losses` counts it once (functional and object
        layers alike). In a TF1 graph it joins the collection instead.
        """
        for tensor in tf.nest.flatten(loss):
            if callable(tensor):
                tensor = tensor()
            self._activity_losses.append(tensor)
            if not tf.compat.v1.executing_eagerly_outside_functions():
                _add_to_collection(tf.compat.v1.GraphKeys.REGULARIZATION_LOSSES, [tensor])
                continue
            owner = _decorated_owner()
            if owner is not None:
                owner.add_loss(tensor)

    @property
    def updates(self):
        """Update ops made in a TF1 graph; eagerly, updates run at once."""
        return list(self._updates)

    def add_update(self, update):
        """Runs `update` now (eager, tf.function) or keeps the op (TF1 graph).

        A layer built with trainable=False drops its updates, as the official
        shim does (its BatchNormalization then normalizes with batch
        statistics in training but leaves the moving ones alone).
        """
        if not self.trainable:
            return
        if tf.compat.v1.executing_eagerly_outside_functions():
            if callable(update):
                update()
            return
        for op in tf.nest.flatten(update):
            self._updates.append(op() if callable(op) else op)

    def __repr__(self):
        return f"<{type(self).__module__}.{type(self).__name__} name={self.name!r}>"


def _decorated_owner():
    """The Keras layer, among those being called, that owns the active store."""
    from keras.src.backend.common import global_state

    from tf1kit.decorator.track import find_store

    store = tf_variable_scope._get_default_variable_store()
    context = global_state.get_global_attribute("current_call_ctx")
    entry = getattr(context, "entry_layer", None)
    if entry is None:
        return None
    for layer in entry._flatten_layers(include_self=True, recursive=True):
        if find_store(layer) is store:
            return layer
    return None


def _snake_case(class_name: str) -> str:
    """Conv2DTranspose -> conv2d_transpose, as TF1 named its layers."""
    intermediate = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", class_name)
    snake = re.sub("([a-z])([A-Z])", r"\1_\2", intermediate).lower()
    return "private" + snake if snake.startswith("_") else snake


def _module_identifier(name: str) -> str:
    identifier = re.sub(r"\W", "_", name)
    return identifier if identifier and not identifier[0].isdigit() else f"layer_{identifier}"


def _to_tensors(inputs, dtype):
    """Arrays and nested Python numbers become tensors; structures of
    tensors (a layer taking a list) keep their shape."""
    def convert(value):
        if tf.is_tensor(value) or hasattr(value, "_keras_history"):
            return value
        if isinstance(value, (np.ndarray, np.generic, float, int, list)):
            return tf.convert_to_tensor(value, dtype=dtype)
        return value

    holds_tensors = any(tf.is_tensor(t) for t in tf.nest.flatten(inputs))
    if isinstance(inputs, (list, tuple, dict)) and holds_tensors:
        return tf.nest.map_structure(convert, inputs)
    return convert(inputs)


def _op_name_scope(scope):
    # Ops of a layer in a TF1 graph live under the layer's scope ("dense/MatMul").
    if tf.executing_eagerly() or not scope.original_name_scope:
        return contextlib.nullcontext()
    return tf.compat.v1.name_scope(scope.original_name_scope)


def _add_to_collection(key, elements):
    collection = tf.compat.v1.get_collection_ref(key)
    present = {id(e) for e in collection}
    for element in elements:
        if id(element) not in present:
            collection.append(element)
            present.add(id(element))


@functools.lru_cache(maxsize=None)
def _call_accepts(layer_class, argument: str) -> bool:
    """Whether `layer_class.call` takes `argument` (TF1 passed the current
    variable scope as `scope=` to calls that asked for it)."""
    try:
        parameters = inspect.signature(layer_class.call).parameters
    except (TypeError, ValueError):
        return False
    if argument in parameters:
        return True
    # **kwargs takes training/mask (as in Keras 2); TF1 gave scope only by name.
    return argument != "scope" and any(
        p.kind == inspect.Parameter.VAR_KEYWORD for p in parameters.values())
