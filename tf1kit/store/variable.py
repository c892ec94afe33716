"""A Keras 3 variable that answers to its TF1 name and speaks tf.Variable.

Keras 3 forbids `/` in variable names, but TF1 code, checkpoints and the
migration guide all speak `model/conv2d/kernel:0`. The Keras name stays the
last path component (`kernel`), `path` becomes the TF1 path and `name` reports
the full TF1 name, so both worlds see what they expect.

TF1 code also calls the whole `tf.Variable` API on what `get_variable`
returns (`v.value()`, `v.assign(x, read_value=False)`, `v.initializer`,
`tf.compat.v1.scatter_update(v, ...)`, optimizers and moving averages), hashes
variables and compares them by identity, and reads `v.dtype` as a `tf.DType`.
`TF1Variable` answers all of that from its backing `tf.Variable`, while Keras 3
keeps reading `.value` as a property and the dtype through `standardize_dtype`.
"""

from __future__ import annotations

import contextlib
import os
import sys

import tensorflow as tf
import keras
from keras.src.backend.common import global_state
from keras.src.backend.common.stateless_scope import in_stateless_scope
from tensorflow.python.eager import context
from tensorflow.python.ops import resource_variable_ops
from tensorflow.python.training.saving import saveable_object_util
from tensorflow.python.util import object_identity


_RESOURCE_VARIABLE = resource_variable_ops.ResourceVariable  # not distributed variables
_executing_eagerly = context.executing_eagerly


class TF1Variable(keras.Variable):
    """A `keras.Variable` created by `get_variable`, named and used the TF1 way.

    Keras 3 sees a `keras.Variable`: it tracks, saves, distributes and
    optimizes it like any other. TF1 code sees a resource `tf.Variable`:
    `isinstance(v, tf.Variable)` holds, `v.value()` reads it, `v.dtype` is a
    `tf.DType`, and the `assign*`/`scatter_*` methods take TF1's arguments.
    `v.value` without a call is the backing `tf.Variable` (what Keras 3 reads).
    In a TF1 graph, the graph's variable collections hold this object, as they
    held what TF1's `get_variable` returned.

    Equality and hashing follow `tf.Variable`: identity in a TF1 graph and
    under `tf.compat.v1.disable_tensor_equality()`, elementwise `==` (and
    unhashable, use `v.ref()`) with TF2's tensor equality outside a graph.

    Args:
        tf1_name: The TF1 name without `:0` (`"model/dense/kernel"`).
        **kwargs: Passed to `keras.Variable` (`initializer`, `dtype`,
            `trainable`, `aggregation`, `synchronization`).

    Example:

    ```python
    v = TF1Variable("scope/v", initializer=tf.zeros([2]), dtype="float32")
    v.name                      # "scope/v:0"
    v.assign([1.0, 2.0], read_value=False)
    v.value()                   # <tf.Tensor: [1., 2.]>
    v.dtype == tf.float32       # True, and a tf.DType
    ```
    """

    # numpy's binary operators defer to the variable, as they do to tf.Variable.
    __array_priority__ = 100

    def __init__(self, tf1_name: str, **kwargs):
        self._tf1_name = tf1_name
        super().__init__(name=tf1_name.rsplit("/", 1)[-1], **kwargs)
        self._path = tf1_name
        # Read on every get_variable and every op on the variable: compute once.
        self._tf_shape = tf.TensorShape(self._shape)
        self.tf_dtype = tf.as_dtype(self._dtype)

    @property
    def name(self):
        return f"{self._tf1_name}:0"

    @property
    def tf1_name(self) -> str:
        """The name TF1 gave this variable, without the `:0` suffix."""
        return self._tf1_name

    def _initialize(self, value):
        # The backing tf.Variable carries the full TF1 name too, so that
        # anything reading `v.value.name` (SavedModel, TF tooling) agrees.
        backing = tf.Variable(
            value,
            dtype=self._dtype,
            trainable=self.trainable,
            name=self._tf1_name,
            aggregation=self._map_aggregation(self.aggregation),
            synchronization=self._map_synchronization(self.synchronization),
        )
        self._value = _make_callable(backing)
        if backing._in_graph_mode:
            _take_collection_places(backing, self)

    # -- what both Keras 3 and TF1 read -------------------------------------
    @property
    def dtype(self):
        """The `tf.DType` (`tf.float32`), or the autocast dtype inside a
        mixed-precision Keras call; Keras standardizes either to its string."""
        if self._autocast and global_state.get_global_attribute("autocast_scope") is not None:
            return tf.as_dtype(super().dtype)
        return self.tf_dtype

    @property
    def shape(self):
        return self._tf_shape

    def get_shape(self):
        # TensorFlow's variable store compares shapes through get_shape().
        return self._tf_shape

    @property
    def handle(self):
        # The backing variable's, also inside an autocast or stateless scope
        # (where Keras' `.value` is a tensor without a handle).
        return self._value.handle

    @property
    def _shared_name(self):
        return self._value._shared_name

    # -- reads: straight to the backing variable where Keras adds nothing ---
    def _plain_backing(self):
        """The backing tf.Variable when a read needs nothing of Keras: outside a
        stateless scope (where Keras substitutes a value) and an autocast scope
        (where it casts). Else None, and the Keras path answers."""
        # Keras keeps its scopes (stateless, autocast) on this thread-local,
        # which `keras.backend.clear_session()` replaces: read it each time.
        state = global_state.GLOBAL_STATE_TRACKER
        if getattr(state, "stateless_scope", None) is not None:
            return None
        if self._autocast and getattr(state, "autocast_scope", None) is not None:
            return None
        return self._value

    def __tf_tensor__(self, dtype=None, name=None):
        # TF converts every op input through here. Keras' version re-enters
        # tf.convert_to_tensor on `.value`; reading the backing variable
        # directly is the same tensor for a fraction of the work.
        backing = self._plain_backing()
        if backing is None:
            return super().__tf_tensor__(dtype=dtype, name=name)
        if ((dtype is None or dtype == backing._dtype) and isinstance(backing, _RESOURCE_VARIABLE)
                and backing._cached_value is None and backing._caching_device is None
                and _executing_eagerly()):
            # What `_dense_var_to_tensor` -> `value()` reach eagerly, without
            # their dtype check and no-op colocation scope: one op input per
            # read, so this runs for every variable of every layer call.
            return backing._read_variable_op()
        return backing._dense_var_to_tensor(dtype=dtype, name=name)

    # -- equality and hashing, as tf.Variable -------------------------------
    def __eq__(self, other):
        if _tensor_equality():
            return tf.raw_ops.Equal(x=self, y=other, incompatible_shape_error=False)
        return self is other

    def __ne__(self, other):
        if _tensor_equality():
            return tf.raw_ops.NotEqual(x=self, y=other, incompatible_shape_error=False)
        return self is not other

    def __hash__(self):
        if _tensor_equality():
            raise TypeError(
                f"Variable is unhashable. Instead, use variable.ref() as the key. "
                f"(Variable: {self.name})")
        return id(self)

    def ref(self):
        """A hashable reference to this variable (`tf.Variable.ref`)."""
        return object_identity.Reference(self)

    def experimental_ref(self):
        return self.ref()

    # -- TF1's writes: TF1 arguments and return values ----------------------
    def assign(self, value, use_locking=None, name=None, read_value=True):
        """Assigns `value`; returns the new value (or the op if not `read_value`)."""
        if in_stateless_scope():  # Keras' stateless_call records the update
            return super().assign(value)
        return self._value.assign(self._float_cast(value), use_locking=use_locking,
                                  name=name, read_value=read_value)

    def assign_add(self, delta, use_locking=None, name=None, read_value=True):
        if in_stateless_scope():
            return super().assign_add(delta)
        return self._value.assign_add(self._float_cast(delta), use_locking=use_locking,
                                      name=name, read_value=read_value)

    def assign_sub(self, delta, use_locking=None, name=None, read_value=True):
        if in_stateless_scope():
            return super().assign_sub(delta)
        return self._value.assign_sub(self._float_cast(delta), use_locking=use_locking,
                                      name=name, read_value=read_value)

    def _float_cast(self, value):
        # Inside a mixed-precision Keras call reads are autocast (float16), so
        # a moving average computed from them is float16: it lands in the
        # float32 variable as Keras' assign would. Other dtype mismatches
        # raise, as they did in TF1.
        dtype = getattr(value, "dtype", None)
        if dtype is None or dtype == self.tf_dtype or not self.tf_dtype.is_floating:
            return value
        try:
            floating = tf.as_dtype(dtype).is_floating
        except TypeError:  # not a TF dtype: TF's assign names the problem
            return value
        return tf.cast(value, self.tf_dtype) if floating else value

    # -- TF1's name-based checkpoints -----------------------------------------
    def _gather_saveables_for_checkpoint(self):
        # Only TF1's Saver and name-based restores ask this (object-based
        # checkpoints use `_serialize_to_tensors`): hand them the backing
        # variable, which they save under its TF1 name ("scope/v").
        return {"VARIABLE_VALUE": lambda name=None: self._value}

    # -- `v.value` and `v.value()` inside a mixed-precision call ------------
    @property
    def value(self):
        read = keras.Variable.value.fget(self)
        if read is self._value or not _read_by_tf1_code():
            return read
        # Autocast (a cast tensor, not callable): TF1 code calls `v.value()`,
        # and gets the read in the compute dtype, as `v.dtype` says.
        return _AutocastRead(read)

    # -- graph-mode reads and initialization ---------------------------------
    def initialized_value(self):
        """The value once initialized, else the initial value (TF 1.x's method;
        TF 2's resource variables raise NotImplementedError here)."""
        with tf.init_scope():
            return tf.cond(self.is_initialized(), self.read_value,
                           lambda: self.initial_value)


def _pass_to_backing(name: str, kind: str):
    """A method or property that the backing tf.Variable answers."""
    if kind == "property":
        return property(lambda self: getattr(self._value, name),
                        doc=f"`tf.Variable.{name}` of the backing variable.")
    if kind == "attribute":
        return property(lambda self: getattr(self._value, name),
                        lambda self, value: setattr(self._value, name, value),
                        doc=f"`{name}` of the backing variable, readable and writable.")

    def method(self, *args, **kwargs):
        return getattr(self._value, name)(*args, **kwargs)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"`tf.Variable.{name}` on the backing variable."
    return method


# The rest of tf.Variable's API, answered by the backing variable exactly as
# a resource variable answers it (eager, tf.function or TF1 graph alike).
_BACKING_PROPERTIES = (
    "initial_value", "initializer", "op", "graph", "device", "create",
    # read by TF's optimizers, slot creator, moving averages and Saver
    "_in_graph_mode", "_unique_id", "_graph_element", "_save_slice_info",
)
_BACKING_METHODS = (
    "read_value", "is_initialized", "eval", "load", "to_proto", "sparse_read",
    "gather_nd", "count_up_to", "batch_scatter_update",
    "scatter_update", "scatter_add", "scatter_sub", "scatter_mul", "scatter_div",
    "scatter_min", "scatter_max", "scatter_nd_update", "scatter_nd_add",
    "scatter_nd_sub", "scatter_nd_max", "scatter_nd_min",
    # TF internals that state_ops and tf.Graph call on variables
    "_lazy_read", "_as_graph_element", "_dense_var_to_tensor",
    "_get_save_slice_info",
)
# Written by tf.compat.v1.train.init_from_checkpoint in a TF1 graph: the
# checkpoint's restore op becomes the backing variable's initializer.
_BACKING_ATTRIBUTES = ("_initializer_op", "_initial_value")
for _name in _BACKING_ATTRIBUTES:
    setattr(TF1Variable, _name, _pass_to_backing(_name, "attribute"))
for _name in _BACKING_PROPERTIES:
    setattr(TF1Variable, _name, _pass_to_backing(_name, "property"))
for _name in _BACKING_METHODS:
    setattr(TF1Variable, _name, _pass_to_backing(_name, "method"))
del _name

def _operator(name: str):
    """`v + x` and friends as a tf.Variable computes them (TensorFlow's ops,
    TensorFlow's dtype rules), unless Keras must substitute or cast the value."""
    keras_operator = getattr(keras.Variable, name)

    def operator(self, *args):
        backing = self._plain_backing()
        if backing is None:
            return keras_operator(self, *args)
        return getattr(backing, name)(*args)

    operator.__name__ = operator.__qualname__ = name
    operator.__doc__ = f"`tf.Variable.{name}` on the backing variable."
    return operator


# Keras 3 sends a variable's operators through keras.ops (dtype promotion,
# argument standardization): several times the cost of TensorFlow's own, and
# not TF1's semantics. `__eq__`/`__ne__` are above (TF's equality rules).
_OPERATORS = (
    "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
    "__truediv__", "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__",
    "__rmod__", "__pow__", "__rpow__", "__matmul__", "__rmatmul__", "__neg__",
    "__abs__", "__invert__", "__lt__", "__le__", "__gt__", "__ge__", "__and__",
    "__rand__", "__or__", "__ror__", "__xor__", "__rxor__", "__getitem__",
)
for _name in _OPERATORS:
    setattr(TF1Variable, _name, _operator(_name))
del _name

# TF1 code asks `isinstance(v, tf.Variable)`, and so do TF's optimizers
# (slot names), ExponentialMovingAverage (initial shadow value) and the
# slot creator. tf.Variable's metaclass is an ABCMeta, so this registration
# answers yes without making TF1Variable inherit tf.Variable's machinery.
tf.Variable.register(TF1Variable)


def _tensor_equality() -> bool:
    """TF2's rule for variables: elementwise `==` unless in a TF1 graph or
    `disable_tensor_equality()` was called."""
    return tf.Tensor._USE_EQUALITY and tf.compat.v1.executing_eagerly_outside_functions()


def _take_collection_places(backing, variable):
    """In a TF1 graph, `get_variable`'s result is what the graph collections
    hold (`v in tf.compat.v1.global_variables()`, default `var_list`s, Saver):
    the shim variable replaces the backing one that tf.Variable put there."""
    graph = backing.graph
    for key in (tf.compat.v1.GraphKeys.GLOBAL_VARIABLES,
                tf.compat.v1.GraphKeys.TRAINABLE_VARIABLES):
        held = graph.get_collection_ref(key)
        for index in range(len(held) - 1, -1, -1):  # just appended: found at once
            if held[index] is backing:
                held[index] = variable
                break


_CALLABLE_CLASSES: dict = {}


class _AutocastRead:
    """`v.value` as TF1 code sees it inside a mixed-precision Keras call: a
    read in the compute dtype that TF1's `v.value()` can call. Converts to that
    tensor wherever a tensor is expected."""

    __slots__ = ("_read",)

    def __init__(self, read):
        self._read = read

    def __call__(self):
        return self._read

    def __getattr__(self, name):
        return getattr(self._read, name)


tf.register_tensor_conversion_function(
    _AutocastRead, lambda value, dtype=None, name=None, as_ref=False:
    tf.convert_to_tensor(value._read, dtype=dtype, name=name))

_KERAS_SOURCES = (os.path.dirname(keras.src.__file__) + os.sep,)


def _read_by_tf1_code() -> bool:
    """Whether `.value` is read by code outside Keras (Keras reads the
    autocast tensor itself; TF1 code calls `v.value()`). Asked only inside
    an autocast scope."""
    caller = sys._getframe(2).f_code.co_filename
    return not caller.startswith(_KERAS_SOURCES)


# Eagerly, TF's Saver takes only resource variables (a dict var_list holds
# them as given): it gets the backing variable, which is saved under the
# dict's name and restored in place.
_tf_saveables_for_op = saveable_object_util.saveable_objects_for_op


def _saveables_for_op(op, name):
    if isinstance(op, TF1Variable):
        op = op._value
    return _tf_saveables_for_op(op, name)


saveable_object_util.saveable_objects_for_op = _saveables_for_op


def _make_callable(variable):
    """Lets TF1's `v.value()` work where Keras 3 reads the property `v.value`.

    Keras 3 reads `keras_variable.value` as the backing `tf.Variable` (for
    optimizer updates, distribution and saving); TF1 calls `v.value()`. The
    backing variable becomes an instance of a subclass of its own class (a
    ResourceVariable, or a MirroredVariable under tf.distribute) whose call
    returns `value()`, so both readings work and neither pays a wrapper.
    """
    cls = type(variable)
    callable_cls = _CALLABLE_CLASSES.get(cls)
    if callable_cls is None:
        callable_cls = type(cls)(cls.__name__, (cls,), {
            "__call__": lambda self: self.value(),
            "__module__": cls.__module__,
            "__qualname__": cls.__qualname__,
        })
        _CALLABLE_CLASSES[cls] = callable_cls
    variable.__class__ = callable_cls
    return variable


@contextlib.contextmanager
def outside_keras_call():
    """Steps out of the Keras call that is tracing or naming the forward pass.

    Functional and Sequential models trace `call` inside a stateless scope,
    where Keras refuses to create real variables; TF1 code creates its state
    during the first call, so creation steps out of that scope. Keras' name
    scope stack is cleared too, so nested Keras layers built here get the
    paths TF1 gave them (`dense/kernel`, not `outer_layer/dense/kernel`).
    """
    saved = {key: global_state.get_global_attribute(key)
             for key in ("stateless_scope", "name_scope_stack")}
    for key in saved:
        global_state.set_global_attribute(key, None)
    try:
        yield
    finally:
        for key, value in saved.items():
            global_state.set_global_attribute(key, value)
