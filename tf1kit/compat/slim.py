"""TF-Slim on tf1kit: slim's layer functions build `tf1kit.layers`.

TF-Slim builds `conv2d`, `fully_connected`, `batch_norm`, ... on TensorFlow's
private copy of the TF1 layers (`tensorflow.python.layers.*`). On TF 2.21
that copy hands regularizers to no one inside a decorated call (the losses
are lost) and its batch normalization forwards to a tf_keras module that
does not exist. Pointing slim's four layer-module references at
`tf1kit.layers` gives slim ordinary get_variable variables and regularizers,
so the decorated owner tracks both. TF 2.21 also removed `ops.Tensor`, which
slim's `smart_cond` (batch_norm, dropout) still reads; it is put back.
"""

from __future__ import annotations

import sys

import tensorflow as tf
from tensorflow.python.framework import ops

# The names under which tf_slim.layers.layers imports the TF1 layer modules.
_SLIM_LAYER_MODULES = (
    "convolutional_layers", "core_layers", "normalization_layers", "pooling_layers")


def slim_targets() -> list:
    """(owner, attribute, replacement) triples for `tf1kit.install()`.

    Empty when tf_slim is not installed. Importing tf_slim here (~50 ms)
    makes the patch independent of whether the user imports slim before or
    after `install()`.
    """
    try:
        import tf_slim  # noqa: F401
    except ImportError:
        return []
    from tf1kit import layers

    slim_layers = sys.modules["tf_slim.layers.layers"]
    targets = [(slim_layers, name, layers) for name in _SLIM_LAYER_MODULES]
    if "Tensor" not in vars(ops):
        targets.append((ops, "Tensor", tf.Tensor))
    return targets
