"""Load a TF1 name-based checkpoint (`tf.compat.v1.train.Saver`) into shim variables.

TF1 checkpoints key each tensor by the variable's graph name
(`model/conv2d/kernel`). Shim variables keep those names, so loading is a
join on names; the report says what matched and what did not.

Loading is all-or-nothing: every matching tensor is read and checked first,
and only then assigned. A mismatch assigns nothing (unless `partial=True`), a
damaged file raises an error naming the file and the variable before anything
is assigned, and an interrupt during the assignment puts the old values back.
"""

from __future__ import annotations

import dataclasses
import glob
import os
import re
import warnings
from typing import Callable, Iterable, Mapping

import keras
import numpy as np
import tensorflow as tf

from tf1kit.decorator import stores_below

# Slot names of TF1 optimizers (`<variable>/<slot>`) and training bookkeeping
# that TF1 savers wrote next to the model. `adam_m`/`adam_v` are the slots of
# the AdamWeightDecay optimizer BERT's fine-tuning code defines.
OPTIMIZER_SLOTS = (
    "Adam", "Adam_1", "adam_m", "adam_v", "lamb_m", "lamb_v", "Momentum", "RMSProp",
    "RMSProp_1", "Adagrad", "AdagradDA", "AdagradDA_1", "ProximalAdagrad", "Adadelta",
    "Adadelta_1", "Ftrl", "Ftrl_1", "ExponentialMovingAverage")
DEFAULT_IGNORED = (
    r"(^|/)global_step$",
    r"(^|/)beta[12]_power(_\d+)?$",
    r"/(" + "|".join(OPTIMIZER_SLOTS) + r")$",
)


class CheckpointReadError(OSError):
    """A checkpoint file could not be read; nothing was assigned."""


@dataclasses.dataclass
class CheckpointReport:
    """What `load_tf1_checkpoint` found; `assigned` says whether values were written.

    `ignored` lists optimizer slots and bookkeeping: keys that match `ignore`,
    and keys one level below a model variable (`<variable>/<slot>`).
    """

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

    Args:
        obj: a decorated layer, model or tf.Module (or a model containing them),
            or a native Keras 3 model (its weights are keyed by `path`, so pass
            `name_map` from TF1 names to paths, e.g. `to_keras`' `weight_map`).
        path: the checkpoint prefix (`.../model.ckpt-100`), its `.index` or
            `.data-*` file, or a directory holding one.
        partial: assign what matches even when something does not.
        name_map: checkpoint name -> model name (a dict or a function), for
            variables renamed during the migration. Two checkpoint names sent
            to one model variable are an error.
        ignore: regular expressions for checkpoint names to skip (optimizer
            slots, `global_step`...); they are listed in `report.ignored`.

    Returns:
        A `CheckpointReport`. On a mismatch nothing is assigned, a warning
        shows the report, and `partial=True` loads the matching part.

    Example:
        ```python
        layer(inputs)  # the first call creates the TF1 variables
        report = tf1kit.load_tf1_checkpoint(layer, "train_dir")
        report.loaded  # ['model/conv2d/bias', 'model/conv2d/kernel', ...]
        ```
    """
    model_variables(obj)  # a wrong or never-called object is named before any file is read
    prefix = _resolve_prefix(path)
    reader = _open(prefix)
    report = CheckpointReport(path=prefix)
    shapes = reader.get_variable_to_shape_map()
    dtypes = reader.get_variable_to_dtype_map()
    patterns = [re.compile(p) for p in ignore]
    rename = _renamer(name_map)
    variables = model_variables(obj, targets={rename(name) for name in shapes})
    matched, sources = {}, {}
    for ckpt_name in sorted(shapes):
        model_name = rename(ckpt_name)
        if model_name not in variables:
            slot_of_a_variable = "/" in model_name and model_name.rsplit("/", 1)[0] in variables
            ignored = slot_of_a_variable or any(p.search(ckpt_name) for p in patterns)
            (report.ignored if ignored else report.unexpected).append(ckpt_name)
            continue
        if model_name in sources:
            raise ValueError(
                f"load_tf1_checkpoint: name_map sends both {sources[model_name]!r} and "
                f"{ckpt_name!r} of {prefix} to the model variable {model_name!r}; "
                "map one of them elsewhere. Nothing was assigned.")
        sources[model_name] = ckpt_name
        variable = variables[model_name]
        if tuple(shapes[ckpt_name]) != tuple(variable.shape):
            report.shape_mismatches.append(
                (model_name, tuple(variable.shape), tuple(shapes[ckpt_name])))
        elif tf.as_dtype(dtypes[ckpt_name]) != tf.as_dtype(variable.dtype):
            report.dtype_mismatches.append((model_name, tf.as_dtype(variable.dtype).name,
                                            tf.as_dtype(dtypes[ckpt_name]).name))
        else:
            matched[model_name] = ckpt_name
    report.missing = sorted(set(variables) - set(sources))
    if not (report.complete or partial):
        warnings.warn(f"{report}\nPass partial=True to load the matching variables anyway.",
                      stacklevel=2)
        return report
    values = {model_name: _read(reader, prefix, ckpt_name, model_name, variables[model_name])
              for model_name, ckpt_name in matched.items()}
    _assign_all(variables, values)
    report.loaded = sorted(matched)
    report.assigned = True
    return report


def model_variables(obj, targets=()) -> dict:
    """Checkpoint name -> variable: shim variables by their TF1 name, native
    Keras weights by their `path`.

    A model with shim variables is keyed by TF1 names; its native Keras
    weights join only where `name_map` sends a checkpoint key to their path.
    A model with none (a native rewrite, e.g. from `tf1kit.to_keras`) is keyed
    by its weights' paths, every one expected in the checkpoint.
    """
    if isinstance(obj, keras.layers.Layer):
        candidates = obj.weights
    elif isinstance(obj, tf.Module):
        candidates = [v for store in stores_below(obj) for v in store.variables_by_name.values()]
    else:
        raise TypeError(
            f"load_tf1_checkpoint: expected a Keras layer/model or tf.Module, "
            f"got {type(obj).__name__}.")
    shim = {v.tf1_name: v for v in candidates if hasattr(v, "tf1_name")}
    native = {}
    for v in candidates:
        if not hasattr(v, "tf1_name") and getattr(v, "path", None):
            if v.path in native and native[v.path] is not v:
                raise ValueError(
                    f"load_tf1_checkpoint: two weights of {type(obj).__name__} share the "
                    f"path {v.path!r}; name the layers apart to load by path.")
            native[v.path] = v
    if not shim and not native:
        raise ValueError(
            f"load_tf1_checkpoint: {type(obj).__name__} has no TF1-style variables yet; "
            "call it once on an input so its get_variable calls create them.")
    if not shim:
        return native
    mapped = {path: v for path, v in native.items() if path in targets and path not in shim}
    return {**shim, **mapped}


_DATA_SUFFIX = re.compile(r"\.data-\d{5}-of-\d{5}$")


def _resolve_prefix(path) -> str:
    """The checkpoint prefix for a prefix, an `.index`/`.data-*` file or a directory."""
    path = os.fspath(path)
    if os.path.isdir(path):
        latest = tf.train.latest_checkpoint(path)
        if latest is not None:
            return latest
        indexes = sorted(glob.glob(os.path.join(glob.escape(path), "*.index")))
        if len(indexes) == 1:  # files copied without their `checkpoint` state file
            return indexes[0][: -len(".index")]
        if indexes:
            raise FileNotFoundError(
                f"load_tf1_checkpoint: directory {path} holds several checkpoints and no "
                f"`checkpoint` file naming the latest; pass one of "
                f"{[i[: -len('.index')] for i in indexes]}.")
        raise FileNotFoundError(f"load_tf1_checkpoint: no checkpoint found in directory {path}")
    if path.endswith(".index"):
        path = path[: -len(".index")]
    else:
        path = _DATA_SUFFIX.sub("", path)
    if os.path.exists(path + ".index") or os.path.isfile(path):
        return path
    raise FileNotFoundError(
        f"load_tf1_checkpoint: no checkpoint at {path} (expected {path}.index)")


def _open(prefix):
    try:
        return tf.train.load_checkpoint(prefix)
    except Exception as exc:  # TF raises DataLossError, NotFoundError, ... without the file
        index = prefix + ".index" if os.path.exists(prefix + ".index") else prefix
        raise CheckpointReadError(
            f"load_tf1_checkpoint: cannot read the checkpoint index {index}: "
            f"{_first_line(exc)}. Nothing was assigned.") from exc


def _read(reader, prefix, ckpt_name, model_name, variable):
    try:
        value = reader.get_tensor(ckpt_name)
    except Exception as exc:  # a cut or corrupted data file: IndexError, DataLossError...
        raise CheckpointReadError(
            f"load_tf1_checkpoint: cannot read {ckpt_name!r} (for the model variable "
            f"{model_name!r}) from {_data_files(prefix)}: {_first_line(exc)}. "
            "Nothing was assigned.") from exc
    value = np.asarray(value)
    if tuple(value.shape) != tuple(variable.shape):
        raise CheckpointReadError(
            f"load_tf1_checkpoint: {ckpt_name!r} in {_data_files(prefix)} holds shape "
            f"{value.shape}, its index says {tuple(variable.shape)}. Nothing was assigned.")
    return value


def _assign_all(variables, values):
    """Assigns every value, or puts the previous values back."""
    previous = {name: np.array(variables[name].numpy()) for name in values}
    try:
        for name, value in values.items():
            variables[name].assign(value)
    except BaseException:  # KeyboardInterrupt too
        for name, value in previous.items():
            variables[name].assign(value)
        raise


def _data_files(prefix) -> str:
    files = sorted(glob.glob(glob.escape(prefix) + ".data-*"))
    return ", ".join(files) if files else f"{prefix} (no .data-* file found)"


def _first_line(exc) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def _renamer(name_map):
    if name_map is None:
        return lambda name: name
    if callable(name_map):
        return name_map
    return lambda name: name_map.get(name, name)
