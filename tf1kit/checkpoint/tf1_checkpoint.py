"""Load a TF1 name-based checkpoint (`tf.compat.v1.train.Saver`) into shim variables.

TF1 checkpoints key each tensor by the variable's graph name
(`model/conv2d/kernel`). Shim variables keep those names, so loading is a
join on names; the report says what matched and what did not, and nothing
is assigned unless everything matches (or `partial=True`).
"""

from __future__ import annotations

import dataclasses
import os
import re
import warnings
from typing import Callable, Iterable, Mapping

import keras
import tensorflow as tf

from tf1kit.decorator import stores_below

# Optimizer and training bookkeeping that TF1 savers wrote next to the model.
DEFAULT_IGNORED = (
    r"(^|/)global_step$",
    r"(^|/)beta[12]_power(_\d+)?$",
    r"/(Adam|Adam_1|Momentum|RMSProp|RMSProp_1|Adagrad|Adadelta|Adadelta_1|Ftrl|Ftrl_1)$",
    r"/ExponentialMovingAverage$",
)


@dataclasses.dataclass
class CheckpointReport:
    """What `load_tf1_checkpoint` found; `assigned` says whether values were written."""

    path: str
    loaded: list = dataclasses.field(default_factory=list)
    missing: list = dataclasses.field(default_factory=list)
    unexpected: list = dataclasses.field(default_factory=list)
    ignored: list = dataclasses.field(default_factory=list)
    shape_mismatches: list = dataclasses.field(default_factory=list)
    dtype_mismatches: list = dataclasses.field(default_factory=list)
    assigned: bool = False

    @property
    def complete(self) -> bool:
        return not (self.missing or self.unexpected or self.shape_mismatches
                    or self.dtype_mismatches)

    def __str__(self):
        lines = [f"TF1 checkpoint {self.path}: {len(self.loaded)} variables loaded"
                 + ("" if self.assigned else " (nothing assigned)")]
        for label, items in [("missing from checkpoint", self.missing),
                             ("not in the model", self.unexpected),
                             ("shape mismatch", self.shape_mismatches),
                             ("dtype mismatch", self.dtype_mismatches)]:
            if items:
                lines.append(f"  {label}: {', '.join(map(str, items))}")
        return "\n".join(lines)


def load_tf1_checkpoint(obj, path: str, partial: bool = False,
                        name_map: Mapping[str, str] | Callable[[str], str] | None = None,
                        ignore: Iterable[str] = DEFAULT_IGNORED) -> CheckpointReport:
    """Assigns the values of a TF1 checkpoint to `obj`'s shim variables by name.

    obj: a decorated layer, model or tf.Module (or a model containing them).
    path: a checkpoint prefix (`.../model.ckpt-100`) or a directory holding one.
    partial: assign what matches even when something does not.
    name_map: checkpoint name -> model name, for variables renamed in migration.
    ignore: regular expressions for checkpoint names to skip (optimizer slots...).
    """
    variables = shim_variables(obj)
    prefix = _resolve_prefix(path)
    reader = tf.train.load_checkpoint(prefix)
    report = CheckpointReport(path=prefix)
    shapes = reader.get_variable_to_shape_map()
    dtypes = reader.get_variable_to_dtype_map()
    patterns = [re.compile(p) for p in ignore]
    rename = _renamer(name_map)
    matched = {}
    for ckpt_name in sorted(shapes):
        model_name = rename(ckpt_name)
        if model_name not in variables:
            (report.ignored if any(p.search(ckpt_name) for p in patterns)
             else report.unexpected).append(ckpt_name)
            continue
        variable = variables[model_name]
        if tuple(shapes[ckpt_name]) != tuple(variable.shape):
            report.shape_mismatches.append((model_name, tuple(variable.shape), tuple(shapes[ckpt_name])))
        elif tf.as_dtype(dtypes[ckpt_name]) != tf.as_dtype(variable.dtype):
            report.dtype_mismatches.append((model_name, tf.as_dtype(variable.dtype).name,
                                            tf.as_dtype(dtypes[ckpt_name]).name))
        else:
            matched[model_name] = ckpt_name
    report.missing = sorted(set(variables) - {rename(n) for n in shapes})
    if report.complete or partial:
        for model_name, ckpt_name in matched.items():
            variables[model_name].assign(reader.get_tensor(ckpt_name))
        report.loaded = sorted(matched)
        report.assigned = True
    else:
        warnings.warn(f"{report}\nPass partial=True to load the matching variables anyway.",
                      stacklevel=2)
    return report


def shim_variables(obj) -> dict:
    """TF1 name -> variable for every shim variable reachable from `obj`."""
    if isinstance(obj, keras.layers.Layer):
        candidates = obj.weights
    elif isinstance(obj, tf.Module):
        candidates = [v for store in stores_below(obj) for v in store.variables_by_name.values()]
    else:
        raise TypeError(
            f"load_tf1_checkpoint: expected a Keras layer/model or tf.Module, "
            f"got {type(obj).__name__}.")
    found = {v.tf1_name: v for v in candidates if hasattr(v, "tf1_name")}
    if not found:
        raise ValueError(
            f"load_tf1_checkpoint: {type(obj).__name__} has no TF1-style variables yet; "
            "call it once on an input so its get_variable calls create them.")
    return found


def _resolve_prefix(path) -> str:
    path = os.fspath(path)
    if os.path.isdir(path):
        latest = tf.train.latest_checkpoint(path)
        if latest is None:
            raise FileNotFoundError(f"load_tf1_checkpoint: no checkpoint found in directory {path}")
        return latest
    if not (os.path.exists(path + ".index") or os.path.exists(path)):
        raise FileNotFoundError(f"load_tf1_checkpoint: no checkpoint at {path} (expected {path}.index)")
    return path


def _renamer(name_map):
    if name_map is None:
        return lambda name: name
    if callable(name_map):
        return name_map
    return lambda name: name_map.get(name, name)
