"""tf1kit against native Keras 3 in one process, with alternating calls.

Both run on Keras 3, so they can share a process: calls alternate between
the two models, and load from other processes hits both alike. On a shared
machine this ratio is far steadier than one between separate processes.
(The official shim needs its own process: TF_USE_LEGACY_KERAS is global.)
"""

import statistics
import time

import numpy as np
import tensorflow as tf

from benchmarks import worlds
from benchmarks.figures import _train_step
from benchmarks.networks.registry import network_class
from benchmarks.networks.sizes import example_inputs


def measure_paired(network: str, sizes, samples: int) -> dict:
    rng = np.random.default_rng(1)
    x1 = example_inputs(network, sizes, 1, rng)
    x16 = example_inputs(network, sizes, 16, rng)
    y16 = tf.constant(rng.integers(0, sizes.classes, 16), tf.int32)
    tf1kit_model = network_class("tf1kit", network)(sizes)
    native_model = network_class("native", network)(sizes)
    figures = {}
    figures["eager_call_b1_ms"] = _alternate(
        lambda: tf1kit_model(x1, training=False),
        lambda: native_model(x1, training=False), samples)
    figures["eager_forward_b16_ms"] = _alternate(
        lambda: tf1kit_model(x16, training=False),
        lambda: native_model(x16, training=False), samples)
    forwards = [tf.function(lambda x, m=m: m(x, training=False))
                for m in (tf1kit_model, native_model)]
    figures["function_forward_b16_ms"] = _alternate(
        lambda: forwards[0](x16), lambda: forwards[1](x16), 3 * samples)
    steps = [_train_step(m, worlds.optimizer("native"))
             for m in (tf1kit_model, native_model)]
    figures["train_step_b16_ms"] = _alternate(
        lambda: steps[0](x16, y16), lambda: steps[1](x16, y16), 3 * samples)
    return figures


def _alternate(tf1kit_call, native_call, samples: int, warmup: int = 3) -> dict:
    """Median ms of each, calling them in turn (order flips every round)."""
    times = {"tf1kit": [], "native": []}
    calls = (("tf1kit", tf1kit_call), ("native", native_call))
    for _ in range(warmup):
        tf1kit_call()
        native_call()
    for round_number in range(samples):
        for world, call in calls if round_number % 2 else calls[::-1]:
            started = time.perf_counter()
            call()
            times[world].append(time.perf_counter() - started)
    return {world: 1000 * statistics.median(ts) for world, ts in times.items()}
