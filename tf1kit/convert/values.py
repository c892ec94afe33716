"""Python source for argument values: literals, Keras initializers, regularizers,
constraints and activations, translated from what TF1 code passed.

Each `*_code` function returns a `Code` (source text) or raises `NotConvertible`
saying what it could not translate. Initial values are copied from the shim,
so an initializer only documents how to draw fresh weights; a regularizer
changes `model.losses` and must translate exactly.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf


class NotConvertible(Exception):
    """A construct with no faithful native Keras 3 form; the message says why."""


class Code(str):
    """Source text that renders as itself (not as a string literal)."""

    def __repr__(self):
        return str(self)


def literal(value) -> str:
    """Source for a plain value: numbers, strings, None, and tuples/lists of them."""
    if isinstance(value, Code):
        return str(value)
    if isinstance(value, str):
        # Double quotes, as Keras' own source writes strings.
        return f'"{value}"' if not any(c in value for c in '"\\\n') else repr(value)
    if isinstance(value, (bool, type(None))):
        return repr(value)
    if isinstance(value, (np.bool_,)):
        return repr(bool(value))
    if isinstance(value, (int, np.integer)):
        return repr(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isinf(value):
            return "float('inf')" if value > 0 else "-float('inf')"
        if math.isnan(value):
            return "float('nan')"
        short = float(f"{value:.12g}")
        # 1 - 0.8 reads as 0.2: the same number once it is a float32.
        return repr(short if np.float32(short) == np.float32(value) else value)
    if isinstance(value, tuple):
        inner = ", ".join(literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, np.ndarray):
        return literal(value.tolist())
    if isinstance(value, tf.DType):
        return f"tf.{value.name}"
    raise NotConvertible(f"no source form for the value {value!r}")


def _call(name: str, **kwargs) -> Code:
    args = ", ".join(f"{k}={literal(v)}" for k, v in kwargs.items())
    return Code(f"{name}({args})")


def _closure(function) -> dict:
    """The free variables a nested function closed over (TF-Slim builds its
    initializers and regularizers as closures, with no config to read)."""
    cells = function.__closure__ or ()
    return {name: cell.cell_contents for name, cell in zip(function.__code__.co_freevars, cells)}


def _keras_object_code(obj, module: str) -> Code:
    config = dict(obj.get_config())
    if config.get("seed") is None:
        config.pop("seed", None)
    name = type(obj).__name__
    if not hasattr(getattr(keras, module), name):
        raise NotConvertible(f"{type(obj).__module__}.{name} is not a Keras 3 {module[:-1]}")
    return _call(f"keras.{module}.{name}", **config)


# -- initializers -------------------------------------------------------------

# TF1 (init_ops v1) class name -> function(config) -> Code
def _v1_variance_scaling(config):
    distribution = config.get("distribution", "truncated_normal")
    if distribution == "normal":  # v1 spelling of the truncated normal
        distribution = "truncated_normal"
    return _call("keras.initializers.VarianceScaling", scale=float(config["scale"]),
                 mode=config["mode"], distribution=distribution)


_TF1_INITIALIZERS = {
    "Zeros": lambda c: Code("keras.initializers.Zeros()"),
    "Ones": lambda c: Code("keras.initializers.Ones()"),
    "GlorotUniform": lambda c: Code("keras.initializers.GlorotUniform()"),
    "GlorotNormal": lambda c: Code("keras.initializers.GlorotNormal()"),
    "RandomNormal": lambda c: _call("keras.initializers.RandomNormal",
                                    mean=float(c["mean"]), stddev=float(c["stddev"])),
    "TruncatedNormal": lambda c: _call("keras.initializers.TruncatedNormal",
                                       mean=float(c["mean"]), stddev=float(c["stddev"])),
    # TF1's maxval=None is 1 for floats (random_uniform_initializer()'s default).
    "RandomUniform": lambda c: _call(
        "keras.initializers.RandomUniform", minval=float(c["minval"]),
        maxval=1.0 if c.get("maxval") is None else float(c["maxval"])),
    "VarianceScaling": _v1_variance_scaling,
    "Orthogonal": lambda c: _call("keras.initializers.Orthogonal", gain=float(c["gain"])),
    "Identity": lambda c: _call("keras.initializers.Identity", gain=float(c["gain"])),
}


def initializer_code(value) -> Code:
    """Keras 3 source for an initializer given to a TF1 layer or get_variable."""
    from tf1kit.layers.arguments import get_initializer

    if value is None:
        return Code("keras.initializers.GlorotUniform()")  # get_variable's default
    if isinstance(value, str):
        value = get_initializer(value)
    if isinstance(value, type):
        # TF1 took initializer classes too (BERT's `initializer=tf.zeros_initializer`).
        try:
            value = value()
        except TypeError as error:
            raise NotConvertible(f"the initializer class {value.__name__} needs arguments") \
                from error
    if isinstance(value, keras.initializers.Initializer):
        if type(value).__module__.startswith("keras."):
            return _keras_object_code(value, "initializers")
    name = type(value).__name__
    if type(value).__module__.startswith("tensorflow.") and name in _TF1_INITIALIZERS:
        config = value.get_config() if hasattr(value, "get_config") else {}
        return _TF1_INITIALIZERS[name](config)
    if name == "Constant" and hasattr(value, "get_config"):
        constant = value.get_config().get("value")
        if np.ndim(constant) == 0:
            return _call("keras.initializers.Constant", value=float(constant))
        raise NotConvertible("a constant initializer with an array value")
    qualname = getattr(value, "__qualname__", "")
    module = getattr(value, "__module__", "") or ""
    if module.startswith("tf_slim") and qualname.startswith("variance_scaling_initializer."):
        cells = _closure(value)
        return _slim_variance_scaling(cells["factor"], cells["mode"], cells["uniform"])
    raise NotConvertible(f"no Keras 3 form for the initializer {value!r}")


def _slim_variance_scaling(factor, mode, uniform) -> Code:
    # slim draws uniform(+-sqrt(3 f / n)) or a truncated normal of stddev
    # sqrt(1.3 f / n); Keras divides its truncated stddev by 0.8796...
    mode = {"FAN_IN": "fan_in", "FAN_OUT": "fan_out", "FAN_AVG": "fan_avg"}[mode]
    if uniform:
        return _call("keras.initializers.VarianceScaling", scale=float(factor), mode=mode,
                     distribution="uniform")
    scale = round(1.3 * factor * 0.87962566103423978 ** 2, 6)
    return _call("keras.initializers.VarianceScaling", scale=scale, mode=mode,
                 distribution="truncated_normal")


def initializer_or_note(value, notes: list, what: str) -> Code:
    """The initializer's source, or the Keras default with a note saying so
    (initial values are copied, so only fresh draws differ)."""
    try:
        return initializer_code(value)
    except NotConvertible as error:
        notes.append(f"{what}: {error}; the Keras default is written instead "
                     "(the converted model holds the TF1 values, so only fresh "
                     "initialization differs)")
        return Code("keras.initializers.GlorotUniform()")


# -- regularizers ----------------------------------------------------------------

def regularizer_code(value) -> Code | None:
    """Keras 3 source for a regularizer that gives the same loss as TF1's."""
    if value is None:
        return None
    if isinstance(value, str):
        value = keras.regularizers.get(value)
    if isinstance(value, keras.regularizers.Regularizer):
        if type(value).__module__.startswith("keras."):
            return _keras_object_code(value, "regularizers")
    qualname = getattr(value, "__qualname__", "")
    module = getattr(value, "__module__", "") or ""
    if module.startswith("tf_slim") or module.startswith("tensorflow"):
        cells = _closure(value) if hasattr(value, "__code__") else {}
        if qualname == "l2_regularizer.<locals>.l2":
            # slim's l2: scale * sum(w ** 2) / 2
            return _call("keras.regularizers.L2", l2=float(cells["scale"]) * 0.5)
        if qualname == "l1_regularizer.<locals>.l1":
            return _call("keras.regularizers.L1", l1=float(cells["scale"]))
        if qualname == "l1_l2_regularizer.<locals>.l1_l2" or "sum_regularizer" in qualname:
            raise NotConvertible(f"the regularizer {qualname} (use keras.regularizers.L1L2)")
    raise NotConvertible(f"no Keras 3 regularizer gives the same loss as {value!r}")


# -- constraints ------------------------------------------------------------------

def constraint_code(value) -> Code | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = keras.constraints.get(value)
    if isinstance(value, keras.constraints.Constraint) and \
            type(value).__module__.startswith("keras."):
        return _keras_object_code(value, "constraints")
    raise NotConvertible(f"no Keras 3 constraint for {value!r}")


# -- activations ------------------------------------------------------------------

_ACTIVATION_NAMES = {}


def _activation_table():
    if _ACTIVATION_NAMES:
        return _ACTIVATION_NAMES
    pairs = {
        "relu": [tf.nn.relu], "relu6": [tf.nn.relu6], "elu": [tf.nn.elu],
        "selu": [tf.nn.selu], "sigmoid": [tf.sigmoid, tf.nn.sigmoid, tf.math.sigmoid],
        "tanh": [tf.tanh, tf.nn.tanh, tf.math.tanh], "softplus": [tf.nn.softplus],
        "softsign": [tf.nn.softsign], "softmax": [tf.nn.softmax],
        "silu": [tf.nn.silu, tf.nn.swish], "exponential": [tf.exp, tf.math.exp],
        "linear": [tf.identity],
    }
    for name, functions in pairs.items():
        for function in functions:
            _ACTIVATION_NAMES[function] = name
        _ACTIVATION_NAMES[keras.activations.get(name)] = name
    return _ACTIVATION_NAMES


def activation_code(value) -> str | None:
    """A Keras activation name for a TF1 layer's activation (None: linear)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = keras.activations.get(value)
    table = _activation_table()
    try:
        name = table.get(value)
    except TypeError:
        name = None
    if name is None:
        raise NotConvertible(f"the activation {getattr(value, '__name__', value)!r} has no "
                             "Keras 3 name")
    return None if name == "linear" else name
