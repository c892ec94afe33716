"""What an inspector lists, read from the shim stores without reading any value.

A snapshot names every TF1-style variable with its shape, dtype and what the
last call did with it. Values are measured separately, for the rows on screen
only (see `statistics.py`). Reading happens on the kernel's main thread only
(from a call hook, a pdb stop, a Keras callback or a button click, which
ipykernel also runs there).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from tf1kit.decorator import find_store
from tf1kit.notebook import hooks

BATCH_NORM_SUFFIXES = ("/moving_mean", "/moving_variance")


@dataclasses.dataclass
class VariableRow:
    name: str
    owner: str
    shape: tuple
    dtype: str
    trainable: bool
    last_call: str  # "created", "used" or "not used" in the owner's last call
    key: tuple = dataclasses.field(repr=False)  # (id(owner), name)
    variable: object = dataclasses.field(repr=False, compare=False)
    # Measured for the rows on screen; None elsewhere.
    mean: float | None = None
    std: float | None = None
    norm: float | None = None
    change: float | None = None  # L2 norm of the difference since the page was last measured

    @property
    def created_in_last_call(self) -> bool:
        return self.last_call == "created"

    @property
    def unused(self) -> bool:
        return self.last_call == "not used"

    @property
    def size(self) -> int:
        return math.prod(self.shape)


@dataclasses.dataclass
class BatchNormLayer:
    """The moving statistics of one batch-normalization layer (a TF1 name prefix)."""

    name: str
    moving_mean: object = None
    moving_variance: object = None

    @property
    def channels(self) -> int:
        variable = self.moving_mean if self.moving_mean is not None else self.moving_variance
        return math.prod(tuple(variable.shape)) if variable is not None else 0


@dataclasses.dataclass
class Snapshot:
    rows: list
    calls: list  # call-log entries, newest last
    batch_norm: list  # BatchNormLayer, in creation order

    @property
    def parameter_count(self) -> int:
        return sum(row.size for row in self.rows)


def take_snapshot(owners) -> Snapshot:
    rows, batch_norm, by_name = [], [], {}
    for owner in owners:
        store = find_store(owner)
        if store is None:
            continue  # not called yet: no variables
        label = _label(owner)
        created = set(store.created_in_call)
        used = set(store.used_in_call)
        for name, variable in store.variables_by_name.items():
            status = "created" if name in created else "used" if name in used else "not used"
            rows.append(VariableRow(
                name, label, tuple(variable.shape), _dtype_name(variable),
                bool(variable.trainable), status, (id(owner), name), variable))
            _collect_batch_norm(batch_norm, by_name, name, label, variable, len(owners) > 1)
    calls = sorted((entry for owner in owners for entry in hooks.call_log(owner)),
                   key=lambda entry: entry.get("time", 0))
    return Snapshot(rows, calls, batch_norm)


def _collect_batch_norm(layers, by_name, name, label, variable, several_owners):
    for suffix in BATCH_NORM_SUFFIXES:
        if name.endswith(suffix):
            prefix = name[: -len(suffix)]
            shown = f"{label}: {prefix}" if several_owners else prefix
            layer = by_name.get(shown)
            if layer is None:
                layer = by_name[shown] = BatchNormLayer(shown)
                layers.append(layer)
            setattr(layer, suffix[1:], variable)


def regularization_losses(target, owners) -> list:
    """(source, value) for each loss the model itself would add to training.

    The losses are the owners' own (`layer.losses`, or a module's
    `regularization_losses`), never recomputed here: Keras 3 leaves out
    non-trainable variables and adds activity losses, and the view must agree.
    """
    if _has_losses(target):
        sources = [target]
    else:  # a container that is neither: its outermost shim owners
        sources = [owner for owner in owners if not any(
            other is not owner and any(inner is owner for inner in _inner(other))
            for other in owners)]
    rows = []
    for source in sources:
        label = _label(source)
        for index, loss in enumerate(_losses(source), start=1):
            # A per-element regularizer gives a tensor; training adds up its elements.
            rows.append((f"{label}: loss {index}", float(np.sum(loss))))
    return rows


def _has_losses(obj) -> bool:
    import keras

    return isinstance(obj, keras.layers.Layer) or hasattr(type(obj), "regularization_losses")


def _losses(obj) -> list:
    import keras

    if isinstance(obj, keras.layers.Layer):
        return list(obj.losses)
    return list(getattr(obj, "regularization_losses", None) or [])


def _inner(owner) -> list:
    import keras
    import tensorflow as tf

    if isinstance(owner, keras.layers.Layer):
        return list(owner._flatten_layers(include_self=False, recursive=True))
    return list(owner.submodules) if isinstance(owner, tf.Module) else []


def _dtype_name(variable) -> str:
    dtype = variable.dtype
    return getattr(dtype, "name", None) or str(dtype)


def _label(owner) -> str:
    return str(getattr(owner, "name", None) or type(owner).__name__)


def shim_owners(obj) -> list:
    """The decorated layers/modules in `obj` (itself, or inside a Keras model)."""
    import keras
    import tensorflow as tf

    if isinstance(obj, keras.layers.Layer):
        candidates = list(obj._flatten_layers(include_self=True, recursive=True))
    elif isinstance(obj, tf.Module):
        candidates = [obj, *obj.submodules]
    else:
        candidates = [obj]
    owners = []
    for candidate in candidates:
        if (find_store(candidate) is not None or hooks.tracked_method_names(type(candidate))) \
                and not any(candidate is seen for seen in owners):
            owners.append(candidate)
    return owners
