"""What an inspector shows, read from the shim stores as plain Python data.

Reading happens on the kernel's main thread only (from a call hook, a pdb
stop, a Keras callback or a button click, which ipykernel also runs there).
"""

from __future__ import annotations

import dataclasses

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
    mean: float
    std: float
    norm: float
    change: float | None  # L2 norm of the difference since the previous refresh
    created_in_last_call: bool
    unused: bool


@dataclasses.dataclass
class Snapshot:
    rows: list
    losses: list  # (source, value)
    batch_norm: dict  # layer prefix -> {"moving_mean": array, "moving_variance": array}
    calls: list  # call-log entries, newest last

    @property
    def total_loss(self) -> float:
        return float(sum(value for _, value in self.losses))

    @property
    def parameter_count(self) -> int:
        return int(sum(np.prod(row.shape, dtype=np.int64) for row in self.rows))


def take_snapshot(owners, previous_values: dict) -> tuple[Snapshot, dict]:
    """Reads every variable once; returns the snapshot and the values to diff next time."""
    rows, losses, batch_norm, values = [], [], {}, {}
    for owner in owners:
        store = find_store(owner)
        if store is None:
            continue  # not called yet: no variables
        label = _label(owner)
        created = set(store.created_in_call)
        used = set(store.used_in_call)
        for name, variable in store.variables_by_name.items():
            value = np.asarray(variable.numpy())
            key = (id(owner), name)
            values[key] = value
            rows.append(_row(name, label, variable, value, previous_values.get(key),
                             name in created, name not in used))
            _collect_batch_norm(batch_norm, name, value)
        losses.extend(_losses_of(store, label))
    calls = sorted((entry for owner in owners for entry in hooks.call_log(owner)),
                   key=lambda entry: entry.get("time", 0))
    return Snapshot(rows, losses, batch_norm, calls), values


def _row(name, owner, variable, value, previous, created, unused) -> VariableRow:
    as_float = value.astype(np.float64, copy=False) if value.dtype.kind in "fiub" else None
    if as_float is not None and as_float.size:
        mean, std, norm = float(as_float.mean()), float(as_float.std()), float(
            np.linalg.norm(as_float.ravel()))
    else:
        mean = std = norm = float("nan")
    change = None
    if previous is not None and previous.shape == value.shape and as_float is not None:
        change = float(np.linalg.norm((as_float - previous).ravel()))
    return VariableRow(name, owner, tuple(value.shape), str(value.dtype),
                       bool(variable.trainable), mean, std, norm, change, created, unused)


def _collect_batch_norm(batch_norm, name, value):
    for suffix in BATCH_NORM_SUFFIXES:
        if name.endswith(suffix):
            layer = name[: -len(suffix)]
            batch_norm.setdefault(layer, {})[suffix[1:]] = value


def _losses_of(store, label) -> list:
    losses = []
    for name, variable in store.variables_by_name.items():
        if getattr(variable, "regularizer", None) is not None:
            losses.append((f"{label}: {name}", float(variable.regularizer(variable))))
    for key, layer in store.nested_layers.items():
        for loss in getattr(layer, "losses", []):
            losses.append((f"{label}: {key}", float(loss)))
    return losses


def _label(owner) -> str:
    return str(getattr(owner, "name", None) or type(owner).__name__)


def shim_owners(obj) -> list:
    """The decorated layers/modules in `obj` (itself, or inside a Keras model)."""
    import keras
    import tensorflow as tf

    if isinstance(obj, keras.layers.Layer):
        candidates = list(obj._flatten_layers(include_self=True, recursive=True))
    elif isinstance(obj, tf.Module):
        candidates = [obj, *obj._flatten(predicate=lambda m: isinstance(m, tf.Module))]
    else:
        candidates = [obj]
    owners = []
    for candidate in candidates:
        if (find_store(candidate) is not None or hooks.tracked_method_names(type(candidate))) \
                and not any(candidate is seen for seen in owners):
            owners.append(candidate)
    return owners
