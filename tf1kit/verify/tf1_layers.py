"""Which TF1 layers the TF1 world runs: TensorFlow's own, not tf1kit's.

After `tf1kit.install()`, `tf.compat.v1.layers`, `tf.compat.v1.nn.rnn_cell`
and TF-Slim's layer modules are tf1kit's. A ground truth built from them
would compare tf1kit's eager path with tf1kit's graph path. When `tf-keras`
is installed, the TF1 world instead points those names at TensorFlow's
original TF1 layers and cells (kept in tf-keras: the code these names ran
before Keras 3) while it builds its graphs, and puts tf1kit's back
afterwards. tf-keras is told it runs under TF 1.x behaviour meanwhile, so its
defaults are TF1's: under TF2 behaviour its default initializers draw from
Keras 2's own generator instead of TF1's initializers. Without tf-keras the
TF1 world runs tf1kit's layers in graph mode, and the report says so.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import threading

import tensorflow as tf
from tensorflow.python.framework import ops

from tf1kit.compat.slim import _SLIM_LAYER_MODULES

_MISSING = object()
_lock = threading.RLock()

# tf_slim's module attribute -> the tf-keras module with the same layers.
_SLIM_ORIGINALS = {
    "convolutional_layers": "tf_keras.src.legacy_tf_layers.convolutional",
    "core_layers": "tf_keras.src.legacy_tf_layers.core",
    "normalization_layers": "tf_keras.src.legacy_tf_layers.normalization",
    "pooling_layers": "tf_keras.src.legacy_tf_layers.pooling",
}
_COMPAT_LAYERS = "tf_keras.api._v1.keras.__internal__.legacy.layers"
_COMPAT_RNN_CELL = "tf_keras.api._v1.keras.__internal__.legacy.rnn_cell"


def original_layers_available() -> bool:
    try:
        importlib.import_module(_COMPAT_LAYERS)
    except ImportError:
        return False
    return True


def description() -> str:
    if original_layers_available():
        return ("tf.compat.v1.layers, tf.compat.v1.nn.rnn_cell and TF-Slim's layers are "
                "TensorFlow's own TF1 code (kept in tf-keras), in a tf.compat.v1.Graph and "
                "Session")
    return ("tf.compat.v1.layers are tf1kit's own layers in graph mode (tf-keras is not "
            "installed): the TF1 world then checks tf1kit's eager path against its graph "
            "path, not against TensorFlow's layers")


def _tf2_disabled():
    return False


@contextlib.contextmanager
def original_tf1_layers():
    """While active, TF1 code gets TensorFlow's own TF1 layers (see module docs)."""
    if not original_layers_available():
        yield False
        return
    targets = [(tf.compat.v1, "layers", importlib.import_module(_COMPAT_LAYERS)),
               (tf.compat.v1.nn, "rnn_cell", importlib.import_module(_COMPAT_RNN_CELL)),
               # tf-keras asks this to choose between TF1 and TF2 behaviour: as under
               # TF 1.x, "glorot_uniform" is then tf.compat.v1.glorot_uniform_initializer
               # (drawing through get_seed), not Keras 2's stateless generator.
               # (tf-keras reads it through tf.compat.v2, a module of its own).
               (tf.__internal__.tf2, "enabled", _tf2_disabled),
               (tf.compat.v2.__internal__.tf2, "enabled", _tf2_disabled)]
    slim_layers = sys.modules.get("tf_slim.layers.layers")
    if slim_layers is not None:
        assert set(_SLIM_ORIGINALS) == set(_SLIM_LAYER_MODULES)
        targets += [(slim_layers, name, importlib.import_module(module))
                    for name, module in _SLIM_ORIGINALS.items()]
        if "Tensor" not in vars(ops):  # TF 2.21 removed it; slim still reads it
            targets.append((ops, "Tensor", tf.Tensor))
    saved = []
    with _lock:
        try:
            for owner, name, replacement in targets:
                saved.append((owner, name, owner.__dict__.get(name, _MISSING)))
                setattr(owner, name, replacement)
            yield True
        finally:
            for owner, name, original in reversed(saved):
                if original is _MISSING:
                    delattr(owner, name)
                else:
                    setattr(owner, name, original)
