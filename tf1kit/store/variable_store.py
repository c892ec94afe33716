"""The variable store behind every decorated method.

TensorFlow's own `_VariableStore` still implements TF1's `get_variable`
semantics (scope reuse, custom getters, default initializers, dtype and shape
checks). This store inherits all of that and changes only what must change on
Keras 3: variables are created once, eagerly, as `TF1Variable`s, and their
regularizers ride on the variable so Keras evaluates them live.

Creation is all-or-nothing and thread-safe: a variable is checked (shape,
dtype, regularizer) before anything is stored, two threads asking for the same
new name get one variable, and a failure or KeyboardInterrupt while it is
handed to the owner takes it back out of both the store and the owner.
"""

from __future__ import annotations

import collections.abc
import inspect
import threading

import tensorflow as tf
from tensorflow.python.ops import variable_scope as tf_variable_scope

from tf1kit.store.regularizers import outliving_traces
from tf1kit.store.scope_hooks import requested_reuse
from tf1kit.store.variable import TF1Variable, outside_keras_call

_AUTO = tf.VariableSynchronization.AUTO
_NO_AGGREGATION = tf.VariableAggregation.NONE


class VariableStore(tf.Module, tf_variable_scope._VariableStore):
    """Holds the TF1-style variables and nested layers of one layer or module."""

    # reuse_fast_path.py answers get_variable of an existing variable here.
    _tf1kit_reuse_fast_path = True
    _TF_MODULE_IGNORED_PROPERTIES = frozenset(
        tf.Module._TF_MODULE_IGNORED_PROPERTIES | {"functional_layers"})

    def __init__(self):
        tf.Module.__init__(self, name="tf1kit_store")
        tf_variable_scope._VariableStore.__init__(self)
        # Eager execution would otherwise forget variables between calls.
        self._store_eager_variables = True
        self._layers = {}
        # tf1kit.layers' functional call sites: (class, scope) -> (key, built layer).
        # Untracked and unwalked: a cache, never part of checkpoints or `submodules`.
        object.__setattr__(self, "functional_layers", {})
        # tf.Module owners discover their variables here (TF1Variable counts
        # as a tf.Variable), the same objects their TF1 layers hold, and the
        # backing tf.Variables of Keras layers made by get_or_create_layer
        # (Keras 3 layers are not tf.Modules: `module.variables` would miss them).
        # Untracked (no checkpoint dependency): the keras variables in `_vars`
        # and the layers in `_layers` are what checkpoints save.
        object.__setattr__(self, "_tf_variables", {})
        object.__setattr__(self, "_layer_tf_variables", _NestedLayerVariables(self._layers))
        # Held while a variable or nested layer is created: a thread that finds
        # a name missing re-checks under it, so racing threads share one.
        object.__setattr__(self, "_creation_lock", threading.RLock())
        # Set once a call has completed; until then calls hold the lock throughout.
        object.__setattr__(self, "first_call_done", False)
        # The owner's hooks: take a new variable or layer, and give it back
        # when its creation is undone.
        self.on_variable_created = None
        self.on_variable_removed = None
        self.on_layer_created = None
        self.on_layer_removed = None
        # TF1 raised for a missing variable under reuse=True in a graph; TF1's
        # eager mode created it (only a layer's own store, outside any
        # decorated call, is eager in that sense).
        self.enforces_reuse = True
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

    @property
    def _regularizers(self) -> dict:
        """`"scope/v:0"` -> zero-argument callable giving that variable's
        regularization loss: what the official shim's store keeps under this
        name, and what code written against it reads."""
        return {v.name: (lambda v=v: v.regularizer(v)) for v in self._vars.values()
                if v.regularizer is not None}

    def regularization_losses(self) -> list:
        """Live regularization losses of every regularized variable, in order."""
        losses = [v.regularizer(v) for v in self._vars.values() if v.regularizer is not None]
        for layer in self._layers.values():
            losses.extend(getattr(layer, "losses", []))
        return losses

    def add_regularizer(self, variable, regularizer):
        """Regularizes a stored variable (TF's legacy layers call this)."""
        variable.regularizer = outliving_traces(regularizer)

    def drop(self, name: str):
        """Forgets a variable (used when a redefined cell no longer needs it)."""
        self._tf_variables.pop(name, None)
        return self._vars.pop(name)

    def restore(self, variable):
        """Takes back a variable that `drop` removed."""
        self._tf_variables[variable.tf1_name] = variable
        self._vars[variable.tf1_name] = variable

    def add_layer(self, key, layer):
        """Stores a nested layer and hands it to the owner, both or neither."""
        try:
            if self.on_layer_created is not None:
                self.on_layer_created(layer)
            self._layers[key] = layer  # the commit: everything before it is undone on failure
        except BaseException:
            self._layers.pop(key, None)
            if self.on_layer_removed is not None:
                self.on_layer_removed(layer)
            raise

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
        del caching_device, use_resource  # one device per variable; always resource
        if not isinstance(name, str):
            raise TypeError(
                f"get_variable: a variable name must be a string, got {name!r} "
                f"({type(name).__name__}).")
        if name.endswith("/"):
            # `get_variable("")` in scope "s" (TF's slot creator, moving
            # averages): TF1 read "s/" as a name scope taken as is, so the
            # variable is "s".
            name = name[:-1]
        dtype = tf.as_dtype(dtype)
        if shape is not None:
            shape = tf.TensorShape(shape)
        if initializer is not None and not callable(initializer) and shape is not None:
            raise ValueError(
                f"Variable {name}: if initializer is a constant, do not specify shape.")
        # `in` and `[]`: `_vars` is tf.Module's dict wrapper, whose `.get` is slow.
        if name not in self._vars:
            with self._creation_lock:
                if name not in self._vars:  # another thread may have made it meanwhile
                    return self._new_variable(
                        name, shape, dtype, initializer, regularizer, partition_info,
                        reuse, trainable, validate_shape, constraint, synchronization,
                        aggregation, collections)
        return self._existing_variable(self._vars[name], name, shape, dtype)

    def reuse_existing(self, found, name, shape, dtype):
        """The fast path's answer for an existing variable (reuse_fast_path.py):
        `found`, after the checks `_existing_variable` makes, with the common
        spellings of shape and dtype compared without conversion. None if
        `found` is not a TF1Variable (the slow path then decides)."""
        if type(found) is not TF1Variable:
            return None
        same_shape = shape is None or (
            type(shape) in (list, tuple) and tuple(shape) == found._shape)
        if same_shape and dtype is found.tf_dtype:
            self.used_in_call.append(name)
            return found
        # Other spellings: the slow path's checks and errors.
        return self._existing_variable(
            found, name, None if shape is None else tf.TensorShape(shape), tf.as_dtype(dtype))

    def _existing_variable(self, found, name, shape, dtype):
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

    def _new_variable(self, name, shape, dtype, initializer, regularizer, partition_info,
                      reuse, trainable, validate_shape, constraint, synchronization,
                      aggregation, collections=None):
        if self.enforces_reuse and (reuse is True or _reuse_requested()):
            raise ValueError(
                f"Variable {name} does not exist, or was not created with "
                "tf.get_variable(). Did you mean to set reuse=tf.AUTO_REUSE in VarScope?")
        value = self._initial_value(name, shape, dtype, initializer, partition_info)
        variable = self._create(name, value, trainable, validate_shape,
                                synchronization, aggregation)
        variable.constraint = constraint
        if variable._in_graph_mode:
            _file_in_collections(variable, collections)
        # TF1 kept only regularizers that produce a loss.
        if regularizer is not None and _regularization_loss(name, regularizer, variable) is not None:
            variable.regularizer = outliving_traces(regularizer)
        self._adopt(variable)
        self.created_in_call.append(name)
        self.used_in_call.append(name)
        return variable

    def _adopt(self, variable):
        """Hands a new variable to the owner and stores it, both or neither."""
        name = variable.tf1_name
        try:
            if self.on_variable_created is not None:
                self.on_variable_created(variable)
            self._tf_variables[name] = variable
            self._vars[name] = variable  # the commit: everything before it is undone on failure
        except BaseException:
            self._vars.pop(name, None)
            self._tf_variables.pop(name, None)
            if self.on_variable_removed is not None:
                self.on_variable_removed(variable)
            raise

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
                return _as_value(name, initializer, None)
            if inspect.isclass(initializer):
                initializer = initializer()
            if shape is not None and shape.is_fully_defined():
                kwargs = {"dtype": dtype}
                if _accepts(initializer, "partition_info"):
                    kwargs["partition_info"] = partition_info
                value = _as_value(name, initializer(shape.as_list(), **kwargs), dtype)
                if value.shape != shape:
                    raise ValueError(
                        f"Variable {name}: the initializer {initializer!r} returned a "
                        f"value of shape {value.shape}, but shape {shape} was requested.")
                return value
            if tf_variable_scope._needs_no_arguments(initializer):
                return _as_value(name, initializer(), None)
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


class _NestedLayerVariables(collections.abc.Mapping):
    """A live view: path -> backing tf.Variable of each nested Keras layer's weights.

    tf.Module's variable walk flattens mappings it finds in a module's
    attributes, so `module.variables` sees weights a nested Keras layer
    creates at any later time, with nothing to refresh.
    """

    def __init__(self, layers):
        self._layers = layers

    def _current(self) -> dict:
        found = {}
        for key, layer in self._layers.items():
            for weight in getattr(layer, "weights", None) or ():
                if isinstance(weight, TF1Variable):
                    continue  # a get_variable variable: in `_tf_variables` already
                value = getattr(weight, "value", weight)
                if isinstance(value, tf.Variable):
                    found[f"{key}/{weight.path}"] = value
        return found

    def __getitem__(self, key):
        return self._current()[key]

    def __iter__(self):
        return iter(self._current())

    def __len__(self):
        return len(self._current())


def _file_in_collections(variable, collections):
    """In a TF1 graph, `get_variable(collections=...)` filed the variable in
    exactly those collections (GLOBAL_VARIABLES by default), and in
    TRAINABLE_VARIABLES too when trainable (the backing tf.Variable did that
    already). TF-Slim's MODEL_VARIABLES and LOCAL_VARIABLES are filled this way."""
    keys = tf.compat.v1.GraphKeys
    wanted = list(collections) if collections is not None else [keys.GLOBAL_VARIABLES]
    graph = variable.graph
    if keys.GLOBAL_VARIABLES not in wanted:  # tf.Variable filed it there
        held = graph.get_collection_ref(keys.GLOBAL_VARIABLES)
        held[:] = [v for v in held if v is not variable]
    for key in dict.fromkeys(wanted):
        held = graph.get_collection_ref(key)
        if not any(v is variable for v in held):
            held.append(variable)


def _reuse_requested() -> bool:
    """True when the current scope asked for reuse=True (eager mode hides it)."""
    return requested_reuse(tf_variable_scope.get_variable_scope()) is True


def _as_value(name, value, dtype):
    """The initial value as a tensor of `dtype`; a mismatch names the variable."""
    try:
        return tf.convert_to_tensor(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        wanted = f" {dtype.name}" if dtype is not None else ""
        raise type(exc)(
            f"Variable {name}: its initializer gave a value that is not a{wanted} "
            f"tensor: {exc}") from exc


def _regularization_loss(name, regularizer, variable):
    try:
        return regularizer(variable)
    except Exception as exc:
        raise _renamed(exc, f"Variable {name}: its regularizer {regularizer!r} raised "
                            f"{type(exc).__name__}: {exc}") from exc


def _renamed(exc, message):
    """The same kind of error with a message that names the variable."""
    try:
        return type(exc)(message)
    except Exception:  # an exception class with a constructor of its own
        return ValueError(message)


def _keras_enum(value) -> str:
    """tf.VariableSynchronization.ON_READ -> 'on_read' (Keras 3 spelling)."""
    return value.name.lower() if hasattr(value, "name") else str(value)


def _accepts(fn, parameter: str) -> bool:
    try:
        return parameter in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
