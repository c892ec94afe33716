"""Graph worlds run their arithmetic as the code writes it, like eager code does.

Grappler's arithmetic optimizer rewrites a graph before a `Session` (or a
`tf.function`) runs it. Its rewrites keep the math but not the rounding: it
sorts the inputs of commutative ops, so the `AddN` that `tf.gradients` builds
to sum the gradients of the four inception branches reading one tensor adds
them in another order than the backward pass produced them. Eager code has
no Grappler: the tape sums them in the order they arrive, as `tf.gradients`
writes them. Where gradients cancel (training-mode batch norm at small
initial weights), that last-bit difference grows past any elementwise
tolerance, and a correct migration would be reported as diverging.

So verify turns that one optimizer off in its graph worlds (the TF1
`Session` and the shim's `tf.function`); every other Grappler pass stays as
TF 1.x ran it. The graph is still TF1's own graph, evaluated op by op as
built; only the reordering of floating-point sums is gone, which TF 1.x
never promised either way.
"""

from __future__ import annotations

import contextlib
import copy

from tensorflow.core.protobuf import config_pb2, rewriter_config_pb2
from tensorflow.python.eager import context

SETTING = "arithmetic optimizer off in graph worlds (sums in the order the code builds them)"


def _without_arithmetic_rewrites(config: config_pb2.ConfigProto) -> config_pb2.ConfigProto:
    config.graph_options.rewrite_options.arithmetic_optimization = (
        rewriter_config_pb2.RewriterConfig.OFF)
    return config


def session_config() -> config_pb2.ConfigProto:
    """The `ConfigProto` of the TF1 world's sessions."""
    return _without_arithmetic_rewrites(config_pb2.ConfigProto())


@contextlib.contextmanager
def functions_as_written():
    """`tf.function`s first called inside run without the arithmetic optimizer.

    The options are the calling thread's own (the eager context keeps them per
    thread), so other threads' functions are untouched; they come back after.
    """
    eager = context.context()
    saved = eager.function_call_options
    options = copy.copy(saved)
    config = config_pb2.ConfigProto.FromString(saved.config_proto_serialized)
    options.config_proto_serialized = _without_arithmetic_rewrites(config)
    eager.function_call_options = options
    try:
        yield
    finally:
        eager.function_call_options = saved
