"""The classes `%%tf1layer` defines: a Keras 3 layer or a `tf.Module` per cell.

A class keeps one `CellDefinition` (the compiled cell, its inputs and
constructor arguments). Redefining the cell swaps that definition on the same
class, so instances that already exist run the new code on their next call.
"""

from __future__ import annotations

import dataclasses
import warnings
import weakref

import keras
import tensorflow as tf

from tf1kit.decorator import drop_variable, find_store, track_tf1_style_variables
from tf1kit.notebook import hooks
from tf1kit.notebook.tracebacks import without_tf1kit_frames


@dataclasses.dataclass
class CellDefinition:
    name: str
    kind: str  # "layer" or "module"
    source: str
    filename: str
    forward: object
    input_names: tuple
    arg_defaults: dict
    version: int = 1

    @property
    def first_line(self) -> int:
        return self.forward.__code__.co_firstlineno


class _CellOwner:
    """What cell layers and cell modules share."""

    _tf1kit_definition: CellDefinition
    _tf1kit_reports_calls = True

    def _take_cell_args(self, args, kwargs) -> dict:
        definition = type(self)._tf1kit_definition
        names = list(definition.arg_defaults)
        if len(args) > len(names):
            raise TypeError(
                f"{definition.name}() takes {len(names)} constructor argument(s) "
                f"({', '.join(names) or 'none'}, set with --args), got {len(args)}.")
        values = dict(definition.arg_defaults)
        values.update(zip(names, args))
        for name in names:
            if name in kwargs:
                values[name] = kwargs.pop(name)
        return values

    def _set_cell_args(self, values):
        object.__setattr__(self, "_tf1kit_cell_args", dict(values))
        for name, value in values.items():
            setattr(self, name, value)
        type(self)._tf1kit_instances.add(self)

    def _run_definition(self, *inputs, training=None):
        definition = type(self)._tf1kit_definition
        if len(inputs) != len(definition.input_names):
            raise TypeError(
                f"{definition.name} expects {len(definition.input_names)} input(s) "
                f"({', '.join(definition.input_names)}), got {len(inputs)}.")
        object.__setattr__(self, "_tf1kit_last_inputs", [_spec_of(x) for x in inputs])
        cell_args = {name: getattr(self, name, default)
                     for name, default in definition.arg_defaults.items()}
        store = find_store(self)
        # After an edit (new cell code or constructor arguments) a variable may
        # change shape; otherwise a shape clash is TF1's error, as it always was.
        edit = (definition.version, definition.forward, cell_args)
        if _same_edit(self.__dict__.get("_tf1kit_last_edit"), edit):
            outputs = definition.forward(self, *inputs, training=training, **cell_args)
        else:
            with tf.compat.v1.variable_scope(tf.compat.v1.get_variable_scope(),
                                             custom_getter=_replace_reshaped_variables(
                                                 self, store)):
                outputs = definition.forward(self, *inputs, training=training, **cell_args)
            object.__setattr__(self, "_tf1kit_last_edit", edit)
        if not self.__dict__.get("_tf1kit_warned_empty") and not store.variables_by_name:
            object.__setattr__(self, "_tf1kit_warned_empty", True)
            warnings.warn(
                f"%%tf1layer {definition.name}: the cell created no variables "
                "(no tf.compat.v1.get_variable or tf.compat.v1.layers call ran).",
                stacklevel=2)
        return outputs

    # -- live editing --------------------------------------------------------
    def unused_variable_names(self) -> list[str]:
        """TF1 names the last call did not touch (e.g. after editing the cell)."""
        store = find_store(self)
        if store is None:
            return []
        used = set(store.used_in_call)
        return [name for name in store.variables_by_name if name not in used]

    def drop_unused_variables(self) -> list[str]:
        """Forgets the variables the last call did not use; returns their names."""
        names = self.unused_variable_names()
        for name in names:
            drop_variable(self, name)
        if names:
            hooks.variables_changed(self, "unused variables dropped")
        return names


class CellLayer(_CellOwner, keras.layers.Layer):
    def __init__(self, *args, **kwargs):
        values = self._take_cell_args(args, kwargs)
        super().__init__(**kwargs)
        self._set_cell_args(values)

    def call(self, *inputs, training=None):
        try:
            return self._tracked_call(*inputs, training=training)
        except Exception as error:
            # Raised here, the traceback reads: the caller, this line, the cell's line.
            raise without_tf1kit_frames(error)

    # Decorated in each class (not the mixin) so the decorator adapts that class.
    @track_tf1_style_variables
    def _tracked_call(self, *inputs, training=None):
        return hooks.run_reported(self, self._run_definition, inputs, {"training": training})

    def get_config(self):
        config = super().get_config()
        config.update(self._tf1kit_cell_args)
        return config


class CellModule(_CellOwner, tf.Module):
    def __init__(self, *args, name=None, **kwargs):
        values = self._take_cell_args(args, kwargs)
        if kwargs:
            raise TypeError(
                f"{type(self).__name__}() got unexpected argument(s) {sorted(kwargs)}; "
                f"constructor arguments are {list(values) or 'none'} (set with --args).")
        super().__init__(name=name)
        self._set_cell_args(values)

    def __call__(self, *inputs, training=None):
        try:
            return self._tracked_call(*inputs, training=training)
        except Exception as error:
            # Raised here, the traceback reads: the caller, this line, the cell's line.
            raise without_tf1kit_frames(error)

    # Decorated in each class (not the mixin) so the decorator adapts that class.
    @track_tf1_style_variables
    def _tracked_call(self, *inputs, training=None):
        return hooks.run_reported(self, self._run_definition, inputs, {"training": training})


def make_cell_class(definition: CellDefinition, user_module: str = "__main__") -> type:
    base = CellLayer if definition.kind == "layer" else CellModule
    return type(definition.name, (base,), {
        "_tf1kit_definition": definition,
        "_tf1kit_instances": weakref.WeakSet(),
        "__module__": user_module,
        "__qualname__": definition.name,
        "__doc__": f"Defined by %%tf1layer from this cell:\n\n{definition.source}",
    })


def _replace_reshaped_variables(owner, store):
    """A getter that lets an edited cell change a variable's shape.

    Same name and shape: the stored variable (and its value) is reused.
    Same name, new shape: the old one is dropped and a fresh one created.
    The store is only looked at when TF1's shape check fails, so a call with
    N variables stays O(N).
    """
    def getter(getter, name, *args, **kwargs):
        try:
            return getter(name, *args, **kwargs)
        except ValueError:
            shape = kwargs.get("shape")
            existing = store.variables_by_name.get(name)
            if existing is None or shape is None or tf.TensorShape(shape).is_compatible_with(
                    existing.shape):
                raise
        drop_variable(owner, name)
        return getter(name, *args, **kwargs)

    return getter


def _same_edit(before, now) -> bool:
    """Same definition and the same constructor argument values (by identity or ==)."""
    if before is None or before[0] != now[0] or before[1] is not now[1]:
        return False
    old_args, new_args = before[2], now[2]
    if old_args.keys() != new_args.keys():
        return False
    for name, value in new_args.items():
        old = old_args[name]
        if old is value:
            continue
        try:
            if not isinstance(value, (bool, int, float, str, tuple, type(None))) or bool(
                    old != value):
                return False
        except Exception:  # noqa: BLE001 - values that cannot be compared count as changed
            return False
    return True


def _spec_of(value):
    """A TensorSpec for array-likes (no data kept alive); other values as they are."""
    if hasattr(value, "dtype") and hasattr(value, "shape"):
        try:
            return tf.TensorSpec(tuple(value.shape), tf.as_dtype(value.dtype))
        except TypeError:
            return value
    return value


def sample_inputs(owner):
    """Zeros shaped like the owner's last inputs, for a trial call; None if unknown."""
    specs = owner.__dict__.get("_tf1kit_last_inputs")
    if specs is None:
        return None
    inputs = []
    for spec in specs:
        if isinstance(spec, tf.TensorSpec):
            if not spec.shape.is_fully_defined():
                return None
            inputs.append(tf.zeros(spec.shape, spec.dtype))
        else:
            inputs.append(spec)
    return inputs
