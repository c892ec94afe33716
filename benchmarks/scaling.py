"""Eager call cost as the number of get_variable calls grows.

One layer per count; each is created, called once (creation), then timed.
"""

import tensorflow as tf

from benchmarks.measure import median_ms, once_ms
from benchmarks.networks.registry import network_class


def measure_scaling(world: str, counts, samples: int) -> dict:
    layer_class = network_class(world, "many_variables")
    inputs = tf.zeros([1, 4])
    eager_ms, first_call_ms = {}, {}
    for count in counts:
        layer = layer_class(count)
        first_call_ms[str(count)] = once_ms(lambda: layer(inputs))
        eager_ms[str(count)] = median_ms(lambda: layer(inputs), samples)
    return {"eager_call_ms": eager_ms, "first_call_ms": first_call_ms}
