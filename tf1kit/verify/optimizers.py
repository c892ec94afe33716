"""The optimizers the worlds train with.

The TF1 world trains with a TF1 optimizer (`tf.compat.v1.train.*`), as the
original code did; the shim worlds and the native world train with a Keras 3
optimizer, as migrated code does. `"sgd"` and `"adam"` name pairs that are
equivalent: TF1's `AdamOptimizer` defaults to `epsilon=1e-8` and Keras 3's
`Adam` to `1e-7`, so the Keras side sets TF1's value explicitly, as a
correct migration must. A native `keras.Model` that was compiled trains with
(a copy of) its own optimizer: that is the optimizer the rewrite will really
use, so a Keras default left in place shows up in the report.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import keras
import tensorflow as tf

SGD_LEARNING_RATE = 0.01  # Keras 3's SGD default; TF1's GradientDescentOptimizer has none
ADAM_LEARNING_RATE = 0.001  # the default of both
TF1_ADAM_EPSILON = 1e-8  # TF1's AdamOptimizer default (Keras 3's Adam: 1e-7)


@dataclasses.dataclass
class OptimizerPair:
    make_tf1: Callable
    make_keras: Callable
    label: str


def resolve(spec) -> OptimizerPair:
    if isinstance(spec, str):
        name = spec.lower()
        if name == "sgd":
            return OptimizerPair(
                lambda: tf.compat.v1.train.GradientDescentOptimizer(SGD_LEARNING_RATE),
                lambda: keras.optimizers.SGD(learning_rate=SGD_LEARNING_RATE),
                f"sgd (learning_rate={SGD_LEARNING_RATE})")
        if name == "adam":
            return OptimizerPair(
                lambda: tf.compat.v1.train.AdamOptimizer(ADAM_LEARNING_RATE),
                lambda: keras.optimizers.Adam(learning_rate=ADAM_LEARNING_RATE,
                                              epsilon=TF1_ADAM_EPSILON),
                f"adam (learning_rate={ADAM_LEARNING_RATE}, epsilon={TF1_ADAM_EPSILON})")
        raise ValueError(
            f"tf1kit.verify: optimizer={spec!r} is not known; use 'sgd', 'adam' or a "
            "(TF1 optimizer factory, Keras 3 optimizer factory) pair.")
    if isinstance(spec, (tuple, list)) and len(spec) == 2 and all(map(callable, spec)):
        return OptimizerPair(spec[0], spec[1], "(TF1 factory, Keras 3 factory)")
    raise TypeError(
        "tf1kit.verify: optimizer must be 'sgd', 'adam' or a pair of zero-argument "
        "functions (making the TF1 optimizer, making the Keras 3 optimizer); got "
        f"{type(spec).__name__}.")


def compiled_optimizer_factory(native):
    """A factory copying a compiled native model's optimizer, or None."""
    optimizer = getattr(native, "optimizer", None) if isinstance(native, keras.Model) else None
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        return None
    config = optimizer.get_config()
    return lambda: type(optimizer).from_config(config)


# TF1 optimizers keep their hyperparameters in these attributes.
_TF1_ATTRIBUTES = {
    "_lr": "learning_rate", "_learning_rate": "learning_rate", "_beta1": "beta_1",
    "_beta2": "beta_2", "_epsilon": "epsilon", "_momentum": "momentum", "_decay": "rho",
    "_use_nesterov": "nesterov", "_centered": "centered",
}
_COMPARED = ("learning_rate", "beta_1", "beta_2", "epsilon", "momentum", "rho", "nesterov",
             "centered")
# Keras 3 settings with no TF1 counterpart: set, they change the numbers.
_KERAS_ONLY = ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm", "amsgrad", "use_ema")


def tf1_settings(optimizer) -> dict:
    settings = {"class": type(optimizer).__name__}
    for attribute, key in _TF1_ATTRIBUTES.items():
        value = _plain(getattr(optimizer, attribute, None))
        if value is not None:
            settings[key] = value
    return settings


def keras_settings(optimizer) -> dict:
    settings = {"class": type(optimizer).__name__}
    config = optimizer.get_config()
    for key in _COMPARED + _KERAS_ONLY:
        value = _plain(config.get(key))
        if value is not None and value is not False:
            settings[key] = value
    return settings


def differences(tf1: dict, other: dict) -> list:
    """(setting, TF1 value, other value) for settings that do not agree."""
    found = []
    for key in _COMPARED:
        if key in tf1 and key in other:
            a, b = float(tf1[key]), float(other[key])
            if abs(a - b) > 1e-12 + 1e-6 * abs(a):
                found.append((key, tf1[key], other[key]))
        elif key in other and key in ("nesterov", "centered") and other[key]:
            found.append((key, False, other[key]))
    for key in _KERAS_ONLY:
        if key in other:
            found.append((key, None, other[key]))
    return found


def _plain(value):
    """A number as the user wrote it: Keras keeps 0.01 as float32 (0.0099999998)."""
    if isinstance(value, bool):
        return value
    if hasattr(value, "numpy"):
        try:
            value = float(value.numpy())
        except (TypeError, ValueError):
            return None
    if isinstance(value, (int, float)):
        return float(f"{value:.7g}") if isinstance(value, float) else value
    return None
