"""Argument checks and lookups shared by the TF1 layers.

TF1 layers accepted ints or tuples for sizes, case-insensitive padding and
data-format strings, and names or callables for initializers, regularizers,
constraints and activations. The error messages name the argument at fault.
"""

from __future__ import annotations

import re

import keras
import tensorflow as tf

from tf1kit.store.regularizers import outliving_traces

PADDINGS = ("valid", "same")
DATA_FORMATS = ("channels_first", "channels_last")


def normalize_tuple(value, n: int, name: str, allow_zero: bool = False) -> tuple:
    """`3` -> `(3, 3)` for n=2; checks a given tuple has n positive ints."""
    problem = (f"The `{name}` argument must be a tuple of {n} integers. "
               f"Received: {value}")
    values = (value,) * n if isinstance(value, int) else value
    try:
        values = tuple(values)
    except TypeError:
        raise ValueError(problem) from None
    if len(values) != n or not all(_is_int(v) for v in values):
        raise ValueError(problem)
    smallest = 0 if allow_zero else 1
    if any(int(v) < smallest for v in values):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{problem}, including values not {bound}.")
    return tuple(int(v) for v in values)


def normalize_padding(value, allow_causal: bool = False) -> str:
    padding = value.lower() if isinstance(value, str) else value
    allowed = PADDINGS + (("causal",) if allow_causal else ())
    if padding not in allowed:
        choices = ", ".join(f'"{p}"' for p in allowed)
        raise ValueError(
            f"The `padding` argument must be one of {choices}. Received: {value}")
    return padding


def normalize_data_format(value) -> str:
    data_format = "channels_last" if value is None else value
    data_format = data_format.lower() if isinstance(data_format, str) else data_format
    if data_format not in DATA_FORMATS:
        raise ValueError(
            'The `data_format` argument must be one of "channels_first", '
            f'"channels_last". Received: {value}')
    return data_format


def _variance_scaling(scale, mode, distribution):
    return lambda: tf.compat.v1.variance_scaling_initializer(scale, mode, distribution)


# Names TF1's keras initializers.get resolved to TF1 (get_seed-drawn) ops.
_TF1_INITIALIZERS = {
    "zeros": tf.compat.v1.zeros_initializer,
    "ones": tf.compat.v1.ones_initializer,
    "glorot_uniform": tf.compat.v1.glorot_uniform_initializer,
    "glorot_normal": tf.compat.v1.glorot_normal_initializer,
    "he_normal": _variance_scaling(2.0, "fan_in", "truncated_normal"),
    "he_uniform": _variance_scaling(2.0, "fan_in", "uniform"),
    "lecun_normal": _variance_scaling(1.0, "fan_in", "truncated_normal"),
    "lecun_uniform": _variance_scaling(1.0, "fan_in", "uniform"),
    "orthogonal": tf.compat.v1.orthogonal_initializer,
}


def get_initializer(value):
    """None stays None so get_variable picks TF1's default (glorot_uniform).

    Common names give TF1's own initializers, so seeds come from get_seed
    (graph seed + op seed) as in TF1; other names fall back to Keras 3.
    """
    if value is None or callable(value):
        return value
    if isinstance(value, str):
        key = re.sub(r"(?<!^)(?=[A-Z])", "_", value).lower()
        if key in _TF1_INITIALIZERS:
            return _TF1_INITIALIZERS[key]()
    return keras.initializers.get(value)


def get_regularizer(value):
    """"l2" -> L2(0.01), as TF1's keras regularizers.get did; a Keras
    regularizer made in a traced call keeps its factors outside the trace."""
    if value is None:
        return value
    if not callable(value):
        value = keras.regularizers.get(value)
    return outliving_traces(value)


def get_constraint(value):
    if value is None or callable(value):
        return value
    return keras.constraints.get(value)


def get_activation(value):
    if value is None or callable(value):
        return value
    return keras.activations.get(value)


def _is_int(value) -> bool:
    if isinstance(value, bool):
        return False
    try:
        return int(value) == value
    except (TypeError, ValueError):
        return False

