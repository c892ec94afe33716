"""`Layer`: the base of every TF1 layer, and of user subclasses.

A TF1 layer is a function with a remembered variable scope. It is a
`tf.Module`, not a Keras layer: its variables come from
`tf.compat.v1.get_variable`, so inside a decorated Keras layer they land in
that owner's store and are tracked (and regularized) once, by the owner.

Naming follows TF1, which kept two names apart:

* `layer.name` of an unnamed layer is drawn from a per-graph counter at
  construction, one-based: `Dense()` is `dense_1`, the next one `dense_2`
  (named layers do not count). In eager code the graph is the global default
  graph, so `tf.compat.v1.reset_default_graph()` (or Keras'
  `clear_session()`) starts the count again.
* the variable scope is chosen on the first call by uniquifying in the
  enclosing variable scope (`dense`, `dense_1`, ...), kept, and re-entered
  with `reuse=True` afterwards, so calling the same object twice shares its
  variables.
"""

from __future__ import annotations

import collections
import contextlib
import copy
import functools
import inspect
import operator
import re
import threading
import weakref

import keras
import numpy as np
import tensorflow as tf
from tensorflow.python.eager.context import context as _eager_context
from tensorflow.python.ops import variable_scope as tf_variable_scope

from tf1kit.layers import experimental, functional_cache, mixed_precision
from tf1kit.layers.arguments import get_constraint, get_initializer, get_regularizer
from tf1kit.layers.input_spec import check_input

_NO_CONTEXT = contextlib.nullcontext()
# tf1kit.to_keras appends a recorder here while it traces a forward pass; each
# layer call then reports itself (when empty, a call pays one list check).
call_recorders: list = []


def op_input(variable):
    """What a layer's call hands to TensorFlow ops for one of its variables.

    Eagerly and outside Keras' stateless/autocast scopes, the backing
    tf.Variable of a TF1Variable: TensorFlow's C fast path takes only real
    resource variables, and anything else costs a Python fallback per op.
    The same value and the same gradient (tapes watch the backing handle);
    the layer's attributes still hold the TF1Variable.
    """
    plain = getattr(variable, "_plain_backing", None)
    if plain is not None and tf.executing_eagerly():
        backing = plain()
        if backing is not None:
            return backing
    return variable


def construct_functional(layer_class, kwargs: dict):
    """A functional form's layer: new, or this call site's built one
    (functional_cache.py; never while a recorder watches layer calls)."""
    return functional_cache.construct(layer_class, kwargs, recording=bool(call_recorders))

# Keras 2 layer arguments TF1 code passes that change nothing here.
_HARMLESS_KWARGS = frozenset(
    {"autocast", "input_shape", "batch_input_shape", "batch_size", "dynamic",
     "weights", "input_dim", "experimental_autocast"})

# graph -> Counter of unnamed layers per base name (TF1 kept one per graph).
_NAME_UIDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class Layer(tf.Module):
    """Base class of the TF1 layers (`tf.compat.v1.layers.Layer`).

    Args:
        trainable: whether the layer's variables are trainable.
        name: the layer's name, also its variable scope; unnamed layers get
            `<snake_case class>_<n>` and the scope `<snake_case class>`,
            uniquified on first call.
        dtype: dtype of the layer's variables; None takes the first input's.

    Example:

    ```python
    class Scale(tf.compat.v1.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight("w", [int(input_shape[-1])],
                                     initializer=tf.compat.v1.ones_initializer())
        def call(self, x):
            return x * self.w

    Scale()(tf.ones([2, 3]))   # creates scale/w
    ```
    """

    # Bookkeeping that tf.Module's variable/submodule walk must not enter.
    _TF_MODULE_IGNORED_PROPERTIES = frozenset(
        tf.Module._TF_MODULE_IGNORED_PROPERTIES
        | {"_weight_regularizers", "_added_losses", "_updates", "_scope",
           "_current_scope", "activity_regularizer", "_call_inputs"})

    # Constructor arguments (besides name, trainable, dtype) that get_config
    # reports, read back from attributes of the same name.
    _config_arguments: tuple = ()

    # Whether the call reads its variables in the compute dtype under a mixed
    # policy; batch normalization reads its float32 parameters as stored.
    _autocast_variables = True

    # Defaults read on every call; class attributes spare functional layers
    # (a new object per call) the instance attribute writes.
    _keras_style = False
    _compute_dtype = None  # set at build under a mixed policy
    _call_inputs = None  # the call's inputs, while a TF1 graph call runs
    _functional_key = None  # set when functional_cache may reuse this layer

    def __init__(self, trainable=True, name=None, dtype=None, **kwargs):
        scope = kwargs.pop("_scope", None)
        reuse = kwargs.pop("_reuse", None)
        activity_regularizer = kwargs.pop("activity_regularizer", None)
        unknown = sorted(set(kwargs) - _HARMLESS_KWARGS)
        if unknown:
            raise TypeError(
                f"{type(self).__name__}: keyword argument not understood: {unknown[0]!r}")
        if isinstance(name, tf.compat.v1.VariableScope):
            base_name = name.name
            layer_name = _unique_layer_name(_snake_case(type(self).__name__))
        elif name:
            base_name = layer_name = name
        else:
            base_name = _snake_case(type(self).__name__)
            layer_name = _unique_layer_name(base_name)
        if experimental.in_keras_style():
            # Refused after naming, as TF1 did (the name is drawn).
            if scope is not None:
                experimental.refuse_scope_argument("scope", scope)
            if reuse is not None:
                experimental.refuse_scope_argument("reuse", reuse)
            self._keras_style = True
        if tf.executing_eagerly():
            super().__init__(name=_module_identifier(base_name))
        else:
            # In a graph, tf.Module's constructor claims the name scope "dense";
            # TF1 left it to the variable scope, so ops are "dense/MatMul".
            with tf.Graph().as_default():
                super().__init__(name=_module_identifier(base_name))
        self._base_name = base_name
        self._layer_name = layer_name
        self._reuse = reuse
        self.trainable = trainable
        self.dtype = tf.as_dtype(dtype).name if dtype is not None else None
        self.activity_regularizer = get_regularizer(activity_regularizer)
        self.input_spec = None
        self.built = False
        self._trainable_weights = []
        self._non_trainable_weights = []
        self._ordered_weights = []  # in add_weight order: what a call reports as used
        self._weight_regularizers = []
        self._added_losses = []  # (tensor, depends on the call's inputs)
        self._updates = []  # (update op, the call's inputs) in a TF1 graph
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
        return self._layer_name

    @property
    def scope_name(self):
        if self._scope is None:
            raise ValueError(
                f'No name available for layer scope because the layer "{self.name}" '
                "has not been used yet. The scope name is determined the first "
                "time the layer instance is called. You must therefore call the "
                "layer before querying `scope_name`.")
        return self._scope.name

    @property
    def compute_dtype(self):
        """The dtype the layer computes in: the policy's under a mixed policy."""
        return self._compute_dtype or self.dtype

    def _set_scope(self, scope=None):
        if self._scope is not None:
            return
        if self._keras_style:
            # A scope of its own, uniquified like a Keras name scope.
            with tf.compat.v1.variable_scope(None, default_name=self._layer_name) as captured:
                self._scope = captured
        elif self._reuse:
            with tf.compat.v1.variable_scope(
                    scope if scope is not None else self._base_name) as captured:
                self._scope = captured
        else:
            with tf.compat.v1.variable_scope(scope, default_name=self._base_name) as captured:
                self._scope = captured

    # -- calling -------------------------------------------------------------
    def __call__(self, inputs, *args, **kwargs):
        if self._functional_key is None:
            return self._call(inputs, *args, **kwargs)
        try:
            functional_cache.renew_if_inputs_differ(self, inputs)
            return self._call(inputs, *args, **kwargs)
        finally:
            functional_cache.release(self)

    def _call(self, inputs, *args, **kwargs):
        finish_recording = call_recorders[-1](self, inputs, kwargs) if call_recorders else None
        scope = kwargs.pop("scope", None)
        if scope is not None and self._keras_style:
            experimental.refuse_scope_argument("scope", scope)
        in_graph = not tf.compat.v1.executing_eagerly_outside_functions()
        if not in_graph and self._added_losses:
            self._added_losses = []  # eagerly, `losses` are the last call's
        with self._variable_store() if self._needs_own_store() else _NO_CONTEXT:
            self._set_scope(scope)
            # A Keras-style layer makes its own variables once, whatever the
            # enclosing reuse; a TF1 layer reuses its scope once built.
            reuse = (tf.compat.v1.AUTO_REUSE if self._keras_style
                     else True if self.built else self._reuse)
            with _ScopeReentry.of(self, reuse) as current:
                self._current_scope = current
                with _op_name_scope(self._scope):
                    inputs = _to_tensors(inputs, self.dtype)
                    if in_graph:
                        self._call_inputs = inputs
                    if not self.built:
                        self._build_for(inputs, in_graph)
                    self._check_inputs(inputs)
                    if _call_accepts(type(self), "scope"):
                        kwargs["scope"] = current
                    for optional in ("training", "mask"):
                        # Keras-style callers pass these to every layer.
                        if optional in kwargs and not _call_accepts(type(self), optional):
                            del kwargs[optional]
                    if self._compute_dtype is None:
                        outputs = self.call(inputs, *args, **kwargs)
                    else:
                        outputs = self._call_mixed(inputs, args, kwargs)
                    self._regularize_activity(inputs, outputs)
        if in_graph:
            self._call_inputs = None
            _add_to_collection(tf.compat.v1.GraphKeys.UPDATE_OPS, self.updates)
        if finish_recording is not None:
            finish_recording(outputs)
        return outputs

    def _call_mixed(self, inputs, args, kwargs):
        compute = self._compute_dtype
        inputs = tf.nest.map_structure(lambda t: _cast_floating(t, compute), inputs)
        with mixed_precision.autocast(compute if self._autocast_variables else None):
            return self.call(inputs, *args, **kwargs)

    def apply(self, *args, **kwargs):
        return self(*args, **kwargs)

    def build(self, input_shape):
        self.built = True

    def call(self, inputs, **kwargs):
        return inputs

    def _build_for(self, inputs, in_graph):
        if self.dtype is None:
            mixed = None if in_graph else mixed_precision.global_mixed_dtypes()
            if mixed is not None:
                self.dtype, self._compute_dtype = mixed
            else:
                # TF1: the first input's dtype, whatever it is (int32 too).
                flat = tf.nest.flatten(inputs)
                dtype = getattr(flat[0], "dtype", None) if flat else None
                if dtype is not None:
                    self.dtype = tf.as_dtype(dtype).base_dtype.name
        self._check_inputs(inputs)
        shapes = tf.nest.map_structure(
            lambda t: tf.TensorShape(getattr(t, "shape", None)), inputs)
        self.build(shapes)
        self.built = True

    def _check_inputs(self, inputs):
        if self.input_spec is not None and tf.is_tensor(inputs):
            check_input(self.input_spec, inputs, self.name)

    def _regularize_activity(self, inputs, outputs):
        if self.activity_regularizer is None:
            return
        for output in tf.nest.flatten(outputs):
            loss = self.activity_regularizer(output)
            if self._compute_dtype is not None:
                # Under a mixed policy losses are summed with float32 ones.
                loss = tf.cast(loss, self.dtype)
            batch = tf.cast(tf.shape(output)[0], loss.dtype)
            self.add_loss(loss / batch, inputs=inputs)

    @staticmethod
    def _needs_own_store() -> bool:
        """Outside a decorated call (and outside a TF1 graph) the layer keeps
        its own store, so it still creates its variables once."""
        if not tf.compat.v1.executing_eagerly_outside_functions():
            return False
        current = tf_variable_scope._get_default_variable_store()
        return not getattr(current, "_store_eager_variables", False)

    @contextlib.contextmanager
    def _variable_store(self):
        """The layer's own store where `_needs_own_store()`, else the current one."""
        if not self._needs_own_store():
            yield
            return
        if self._own_store is None:
            from tf1kit.store import VariableStore

            self._own_store = VariableStore()
            # Outside decorated calls TF1 ran eagerly, where reuse=True did
            # not refuse a new variable.
            self._own_store.enforces_reuse = False
        with tf_variable_scope.with_variable_store(self._own_store):
            yield

    # -- shapes --------------------------------------------------------------
    def compute_output_shape(self, input_shape):
        """The output shape for `input_shape`, without real data.

        Layers that know their shape arithmetic override this; here the call
        is traced once on symbolic inputs (building the layer if needed), as
        TF1 did eagerly. In a TF1 graph it raises NotImplementedError, as TF1.
        """
        if not tf.compat.v1.executing_eagerly_outside_functions():
            raise NotImplementedError(
                f"Please run in eager mode or implement the compute_output_shape "
                f"method on your layer ({type(self).__name__}).")
        shapes = _to_shapes(input_shape)
        dtype = self.dtype or "float32"
        specs = tf.nest.map_structure(lambda s: tf.TensorSpec(s, dtype), shapes)

        def trace(inputs):
            return self(inputs)

        outputs = tf.function(trace).get_concrete_function(specs).structured_outputs
        self._added_losses = []  # symbolic losses of the trace
        return tf.nest.map_structure(lambda t: t.shape, outputs)

    def count_params(self):
        """The number of scalars in the layer's variables (it must be built)."""
        if not self.built:
            raise ValueError(
                f"You tried to call `count_params` on layer {self.name}, but the "
                "layer isn't built. You can build it manually via: "
                f"`{self.name}.build(batch_input_shape)`.")
        return int(sum(np.prod(v.shape.as_list() if hasattr(v.shape, "as_list")
                               else v.shape, dtype=np.int64) for v in self.weights))

    # -- config ----------------------------------------------------------------
    def get_config(self):
        """The constructor arguments, so `type(layer).from_config(config)`
        makes an equivalent (unbuilt) layer."""
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        for argument in self._config_arguments:
            config[argument] = _config_value(getattr(self, argument))
        if "activation" in config and config["activation"] is None:
            config["activation"] = "linear"  # how TF1 reported no activation
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

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
                    f"add_weight({name!r}): Synchronization value can be set to "
                    "VariableSynchronization.ON_READ only for non-trainable variables. "
                    "You have specified trainable=True and "
                    "synchronization=VariableSynchronization.ON_READ.")
            trainable = False
        elif trainable is None:
            trainable = True
        dtype = tf.as_dtype(dtype or self.dtype or tf.float32)
        regularizer = get_regularizer(regularizer)
        with self._variable_store():
            self._set_scope(None)
            reuse = (tf.compat.v1.AUTO_REUSE if self._keras_style
                     else True if self.built else self._reuse)
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
        self._ordered_weights.append(variable)
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

    # -- losses ----------------------------------------------------------------
    @property
    def losses(self):
        """Weight regularization (live) and the losses added by calls: the
        last call's eagerly, every call's in a TF1 graph (as TF1)."""
        weight_losses = [reg(v) for v, reg in self._weight_regularizers]
        return ([loss for loss in weight_losses if loss is not None]
                + [loss for loss, _ in self._added_losses])

    def add_loss(self, losses, inputs=None):
        """Adds loss tensors (or zero-argument callables giving them).

        `inputs=None` marks them unconditional; anything else (TF1 passed the
        call's inputs, or True) marks them as depending on the call's inputs,
        which `get_losses_for` tells apart. As in TF1, where such losses
        joined REGULARIZATION_LOSSES, they also reach the decorated owner
        whose store made this layer's variables: a Keras owner's `losses`, a
        `tf.Module` owner's `regularization_losses`. In a TF1 graph they join
        the collection instead.
        """
        conditional = inputs is not None
        in_graph = not tf.compat.v1.executing_eagerly_outside_functions()
        for tensor in tf.nest.flatten(losses):
            if callable(tensor):
                tensor = tensor()
            if tensor is None:
                continue
            self._added_losses.append((tensor, conditional))
            if in_graph:
                _add_to_collection(tf.compat.v1.GraphKeys.REGULARIZATION_LOSSES, [tensor])
            else:
                _send_to_owner(tensor)

    def get_losses_for(self, inputs):
        """Losses that do not depend on any call's inputs (`inputs=None`), or
        those computed from `inputs` (TF1 graph: traced through the graph;
        eagerly: the last call's input-dependent losses)."""
        if inputs is None:
            weight_losses = [reg(v) for v, reg in self._weight_regularizers]
            return ([loss for loss in weight_losses if loss is not None]
                    + [loss for loss, conditional in self._added_losses if not conditional])
        conditional = [loss for loss, depends in self._added_losses if depends]
        if tf.compat.v1.executing_eagerly_outside_functions():
            return conditional
        return _reachable_from(inputs, conditional)

    # -- updates ---------------------------------------------------------------
    @property
    def updates(self):
        """Update ops made in a TF1 graph; eagerly, updates run at once."""
        return [update for update, _ in self._updates]

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
            self._updates.append((op() if callable(op) else op, self._call_inputs))

    def get_updates_for(self, inputs):
        """TF1 graph updates that do not depend on the inputs of the call that
        made them (`inputs=None`), or those computed from `inputs`."""
        if inputs is None:
            return [update for update, call_inputs in self._updates
                    if call_inputs is None or not _reachable_from(call_inputs, [update])]
        return _reachable_from(inputs, self.updates)

    # -- copying ---------------------------------------------------------------
    def __deepcopy__(self, memo):
        """Copies the configuration; tensors, variables and the store are
        shared (a graph tensor cannot be copied), scopes copied shallowly."""
        result = type(self).__new__(type(self))
        memo[id(self)] = result
        for value in self.__dict__.values():
            if _shared_on_copy(value):
                memo[id(value)] = value
        for key, value in self.__dict__.items():
            if key == "_scope_reentry":
                continue  # the copy enters its own scope copy
            if key in ("_scope", "_current_scope"):
                value = copy.copy(value)
            elif not _shared_on_copy(value):
                value = copy.deepcopy(value, memo)
            result.__dict__[key] = value
        return result

    def __repr__(self):
        return f"<{type(self).__module__}.{type(self).__name__} name={self.name!r}>"


def _unique_layer_name(base_name: str) -> str:
    """`dense_1`, `dense_2`, ...: TF1's one-based per-graph count."""
    graph = tf.compat.v1.get_default_graph()
    counts = _NAME_UIDS.get(graph)
    if counts is None:
        counts = _NAME_UIDS[graph] = collections.Counter()
    counts[base_name] += 1
    return f"{base_name}_{counts[base_name]}"


def _send_to_owner(tensor):
    """An added loss reaches the decorated owner of the active store."""
    owner = _decorated_owner()
    if owner is not None:
        owner.add_loss(tensor)
        return
    from tf1kit.store import VariableStore

    store = tf_variable_scope._get_default_variable_store()
    if isinstance(store, VariableStore):
        # A tf.Module owner reads them in `regularization_losses`. Each call of
        # the owner gives the store a new `created_in_call` list: it marks
        # which call the losses belong to.
        record = store.__dict__.get("activity_losses")
        if record is None or record[0] is not store.created_in_call:
            record = (store.created_in_call, [])
            object.__setattr__(store, "activity_losses", record)
        record[1].append(tensor)


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


def _reachable_from(inputs, targets):
    """The `targets` (tensors or ops) that a TF1 graph computes from `inputs`."""
    def op_of(value):
        return value if isinstance(value, tf.Operation) else getattr(value, "op", None)

    wanted = {}
    for target in targets:
        op = op_of(target)
        if op is not None:
            wanted.setdefault(id(op), []).append(target)
    pending = [op for op in map(op_of, tf.nest.flatten(inputs)) if op is not None]
    seen, found = set(), set()
    while pending and len(found) < len(wanted):
        op = pending.pop()
        if id(op) in seen:
            continue
        seen.add(id(op))
        if id(op) in wanted:
            found.add(id(op))
        for output in op.outputs:
            pending.extend(output.consumers())
        pending.extend(op._control_outputs)
    return [t for t in targets if id(op_of(t)) in found]


def _shared_on_copy(value) -> bool:
    # tf.is_tensor covers tf.Variable and keras.Variable too.
    return tf.is_tensor(value) or type(value).__name__ == "VariableStore"


def _config_value(value):
    """Activations by name, as TF1 reported them; anything else as is."""
    name = getattr(value, "__name__", None)
    if callable(value) and name and not isinstance(value, type):
        known = getattr(keras.activations, name, None)
        if known is value or (known is not None and getattr(value, "__module__", "")
                              .startswith(("tensorflow", "keras"))):
            return name
    return value


def _to_shapes(value):
    """A shape (TensorShape, tuple/list of ints and None) or a structure of them."""
    if isinstance(value, tf.TensorShape) or value is None:
        return tf.TensorShape(value)
    if isinstance(value, (list, tuple)) and all(
            d is None or isinstance(d, (int, np.integer)) for d in value):
        return tf.TensorShape(value)
    if isinstance(value, dict):
        return {k: _to_shapes(v) for k, v in value.items()}
    return [_to_shapes(v) for v in value]


def _cast_floating(value, dtype):
    if tf.is_tensor(value) and value.dtype.is_floating and value.dtype != dtype:
        return tf.cast(value, dtype)
    return value


@functools.lru_cache(maxsize=None)
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


class _ScopeReentry:
    """The `variable_scope(layer._scope, reuse=..., auxiliary_name_scope=False)`
    a call enters, kept by the layer between eager calls.

    TensorFlow re-enters a variable_scope object it entered before without
    building its name scope and scope objects again (its eager templates keep
    one per template for that reason); building them was the larger part of a
    reused layer's call. A layer keeps its entry while it re-enters the same
    scope object with the same `reuse`, under the same name scope (the entry
    puts back the name scope it first saw) and in the same thread's scope
    store. A call that finds the entry in use (recursion, another thread) makes
    a new one, as every call did before; so does every call in a graph, as in
    TF1. The entered VariableScope object is then shared by the calls: code
    that changes it (`set_initializer`, `reuse_variables`) drops the entry, so
    the next call starts from the layer's scope as TF1's would.
    """

    __slots__ = ("scope", "key", "entry", "lock", "entered", "settings")

    _SETTINGS = operator.attrgetter(
        "_reuse", "_initializer", "_regularizer", "_caching_device", "_partitioner",
        "_custom_getter", "_dtype", "_use_resource", "_constraint")

    @staticmethod
    def of(layer, reuse):
        scope = layer._scope
        if not tf.executing_eagerly():
            return tf.compat.v1.variable_scope(scope, reuse=reuse, auxiliary_name_scope=False)
        key = (reuse, _eager_context().scope_name, tf_variable_scope.get_variable_scope_store())
        kept = layer.__dict__.get("_scope_reentry")
        if kept is None or kept.scope is not scope or kept.key != key:
            kept = _ScopeReentry()
            kept.scope, kept.key, kept.lock = scope, key, threading.Lock()
            kept.entry = tf.compat.v1.variable_scope(
                scope, reuse=reuse, auxiliary_name_scope=False)
            kept.entered = kept.settings = None
            layer.__dict__["_scope_reentry"] = kept
        if not kept.lock.acquire(blocking=False):
            return tf.compat.v1.variable_scope(scope, reuse=reuse, auxiliary_name_scope=False)
        return kept

    def __enter__(self):
        try:
            entered = self.entry.__enter__()
        except BaseException:
            self.lock.release()
            raise
        if entered is not self.entered:
            self.entered, self.settings = entered, self._SETTINGS(entered)
        return entered

    def __exit__(self, *exc_info):
        try:
            return self.entry.__exit__(*exc_info)
        finally:
            if any(now is not then
                   for now, then in zip(self._SETTINGS(self.entered), self.settings)):
                self.key = None  # the next call makes a new entry
            self.lock.release()


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
