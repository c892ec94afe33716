"""The per-network figures: eager latency, tf.function forward, train step.

Runs inside a worker whose world is already entered. The code below is the
same for every world; only the network class and the optimizer differ.
"""

import numpy as np
import tensorflow as tf

from benchmarks import worlds
from benchmarks.measure import max_rss_mb, median_ms, once_ms
from benchmarks.networks.registry import network_class
from benchmarks.networks.sizes import example_inputs


def measure_network(world: str, network: str, sizes, samples: int) -> dict:
    rss_before = max_rss_mb()
    rng = np.random.default_rng(0)
    x1 = example_inputs(network, sizes, 1, rng)
    x16 = example_inputs(network, sizes, 16, rng)
    y16 = tf.constant(rng.integers(0, sizes.classes, 16), tf.int32)
    model = network_class(world, network)(sizes)
    figures = {}

    # The first call creates the variables (and, for Keras layers, builds).
    figures["first_call_ms"] = once_ms(lambda: model(x1, training=False))
    figures["variables"] = len(model.variables)
    figures["trainable_variables"] = len(model.trainable_variables)
    figures["eager_call_b1_ms"] = median_ms(lambda: model(x1, training=False), samples)
    figures["eager_forward_b16_ms"] = median_ms(lambda: model(x16, training=False), samples)

    forward = tf.function(lambda x: model(x, training=False))
    figures["trace_forward_ms"] = once_ms(lambda: forward(x16))
    figures["forward_graph_ops"] = _graph_ops(forward, x16)
    # Compiled calls are short and cheap: more samples for a steadier median.
    figures["function_forward_b16_ms"] = median_ms(lambda: forward(x16), 3 * samples)

    # Forward + backward without the optimizer: separates the shim's share of
    # a training step from the optimizer's (each world brings its own).
    gradient_step = _gradient_step(model)
    gradient_step(x16, y16)
    figures["gradient_step_b16_ms"] = median_ms(lambda: gradient_step(x16, y16), 3 * samples)

    train_step = _train_step(model, worlds.optimizer(world))
    figures["trace_train_step_ms"] = once_ms(lambda: train_step(x16, y16))
    figures["train_step_b16_ms"] = median_ms(lambda: train_step(x16, y16), 3 * samples)
    figures["train_graph_ops"] = _graph_ops(train_step, x16, y16)

    figures["peak_memory_mb"] = max_rss_mb() - rss_before
    return figures


def _graph_ops(function, *args) -> int:
    """Operations in the traced graph: equal counts mean the same compiled work."""
    return len(function.get_concrete_function(*args).graph.get_operations())


def _loss(model, x, y):
    logits = model(x, training=True)
    return tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))


def _gradient_step(model):
    @tf.function
    def gradient_step(x, y):
        with tf.GradientTape() as tape:
            loss = _loss(model, x, y)
        return tape.gradient(loss, model.trainable_variables)

    return gradient_step


def _train_step(model, optimizer):
    # Building the optimizer up front keeps slot creation out of the trace,
    # as a training loop does after its first step.
    optimizer.build(model.trainable_variables)

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            loss = _loss(model, x, y)
        variables = model.trainable_variables
        gradients = tape.gradient(loss, variables)
        optimizer.apply_gradients(zip(gradients, variables))
        return loss

    return train_step
