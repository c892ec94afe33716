"""`DeterministicRandomTestTool`: same random numbers in TF1 graphs, the shim
and native Keras 3, so migrated code can be checked value for value.

TF1-style random ops ask `random_seed.get_seed` for their seeds; the tool
answers with `(seed, operation_seed)` exactly as the official tool does.
Keras 3 initializers draw through stateless ops with seeds of their own, so
inside `scope()` an initializer created without a seed is routed through
the same stateful TensorFlow op (and hence `get_seed`) that TF1 used.
"""

from __future__ import annotations

import contextlib

import tensorflow as tf
from keras.src import backend as keras_backend
from keras.src.backend.common.stateless_scope import in_stateless_scope
from tensorflow.python.framework import random_seed

_MODES = ("constant", "num_random_ops")


class _UnseededKerasDraw(int):
    """Seed given to Keras initializers made without a seed inside scope()."""


class DeterministicRandomTestTool:
    """Makes random ops deterministic by counting them (see module docs).

    mode="constant": every random op gets the operation seed `operation_seed`.
    mode="num_random_ops": the n-th random op gets operation seed n, and
    reusing a seed raises, so two weights cannot silently share values.
    """

    def __init__(self, seed: int = 42, mode: str = "constant"):
        if mode not in _MODES:
            raise ValueError(f"Mode arg must be 'constant' or 'num_random_ops'. Got: {mode}")
        self._seed = seed
        self._mode = mode
        self.operation_seed = 0
        self._observed_seeds: set[int] = set()

    @property
    def mode(self) -> str:
        return self._mode

    def _next_seed(self, _requested_op_seed=None):
        op_seed = self.operation_seed
        if self._mode == "constant":
            tf.random.set_seed(op_seed)  # what the official tool does, kept for parity
        else:
            if op_seed in self._observed_seeds:
                raise ValueError(
                    f"This DeterministicRandomTestTool is trying to re-use the already-used "
                    f"operation seed {op_seed}; random numbers could no longer match between "
                    "eager execution and sessions. An explicitly set `operation_seed` "
                    "overlapped the seeds already drawn.")
            self._observed_seeds.add(op_seed)
            self.operation_seed = op_seed + 1
        return self._seed, op_seed

    @contextlib.contextmanager
    def scope(self):
        """Within this context, random ops draw deterministic seeds."""
        tf.random.set_seed(self._seed)
        with _patched(random_seed, "get_seed", self._next_seed), _keras_draws_through_tf1():
            yield self


@contextlib.contextmanager
def _patched(owner, attribute, replacement):
    original = getattr(owner, attribute)
    setattr(owner, attribute, replacement)
    try:
        yield
    finally:
        setattr(owner, attribute, original)


def _stateful_uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    return tf.random.uniform(shape, minval, maxval, dtype=dtype or keras_backend.floatx())


def _stateful_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    return tf.random.normal(shape, mean, stddev, dtype=dtype or keras_backend.floatx())


def _stateful_truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    return tf.random.truncated_normal(shape, mean, stddev, dtype=dtype or keras_backend.floatx())


@contextlib.contextmanager
def _keras_draws_through_tf1():
    """Routes draws of seedless Keras initializers to TF's stateful ops."""
    module = keras_backend.random
    replacements = {
        "uniform": _stateful_uniform,
        "normal": _stateful_normal,
        "truncated_normal": _stateful_truncated_normal,
    }
    originals = {name: getattr(module, name) for name in replacements}
    original_default_seed = module.make_default_seed

    def route(name):
        def draw(*args, seed=None, **kwargs):
            # Symbolic tracing (a stateless scope) draws placeholder values
            # that are thrown away; only real initialization consumes a seed.
            if type(seed) is _UnseededKerasDraw and not in_stateless_scope():
                return replacements[name](*args, **kwargs)
            return originals[name](*args, seed=seed, **kwargs)
        return draw

    with contextlib.ExitStack() as stack:
        stack.enter_context(_patched(
            module, "make_default_seed",
            lambda: _UnseededKerasDraw(original_default_seed())))
        for name in replacements:
            stack.enter_context(_patched(module, name, route(name)))
        yield
