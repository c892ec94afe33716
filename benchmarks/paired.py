"""tf1kit, native Keras 3 and the raw-ops floor in one process, calls alternating.

All three run on Keras 3 / plain TensorFlow, so they can share a process:
calls rotate between the models, and load from other processes hits them
alike. On a shared machine these ratios are far steadier than ratios between
separate processes. (The official shim needs its own process:
TF_USE_LEGACY_KERAS is global.)
"""

import statistics
import time

import numpy as np
import tensorflow as tf

from benchmarks import worlds
from benchmarks.figures import _train_step
from benchmarks.networks.registry import network_class
from benchmarks.networks.sizes import example_inputs

PAIRED_WORLDS = ("tf1kit", "native", "raw")


def measure_paired(network: str, sizes, samples: int) -> dict:
    rng = np.random.default_rng(1)
    x1 = example_inputs(network, sizes, 1, rng)
    x16 = example_inputs(network, sizes, 16, rng)
    y16 = tf.constant(rng.integers(0, sizes.classes, 16), tf.int32)
    models = {world: network_class(world, network)(sizes) for world in PAIRED_WORLDS}
    figures = {}
    figures["eager_call_b1_ms"], figures["eager_call_b1_cpu_ms"] = _alternate(
        {w: (lambda m=m: m(x1, training=False)) for w, m in models.items()}, samples,
        with_cpu=True)
    figures["eager_forward_b16_ms"] = _alternate(
        {w: (lambda m=m: m(x16, training=False)) for w, m in models.items()}, samples)
    forwards = {w: tf.function(lambda x, m=m: m(x, training=False)) for w, m in models.items()}
    figures["function_forward_b16_ms"] = _alternate(
        {w: (lambda f=f: f(x16)) for w, f in forwards.items()}, 3 * samples)
    steps = {w: _train_step(m, worlds.optimizer("native")) for w, m in models.items()}
    figures["train_step_b16_ms"] = _alternate(
        {w: (lambda s=s: s(x16, y16)) for w, s in steps.items()}, 3 * samples)
    return figures


def _alternate(calls: dict, samples: int, warmup: int = 3, with_cpu: bool = False):
    """Median ms of each call, calling them in turn (the order rotates every round).

    With `with_cpu`, also the median CPU time of the calling thread: on a shared
    machine it leaves out the time other processes held the core, which wall
    time of a Python-heavy call picks up in proportion to its length.
    """
    names = list(calls)
    times = {name: [] for name in names}
    cpu_times = {name: [] for name in names}
    for _ in range(warmup):
        for call in calls.values():
            call()
    for round_number in range(samples):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            started, cpu_started = time.perf_counter(), time.thread_time()
            calls[name]()
            times[name].append(time.perf_counter() - started)
            cpu_times[name].append(time.thread_time() - cpu_started)
    wall = {name: 1000 * statistics.median(ts) for name, ts in times.items()}
    if not with_cpu:
        return wall
    return wall, {name: 1000 * statistics.median(ts) for name, ts in cpu_times.items()}
