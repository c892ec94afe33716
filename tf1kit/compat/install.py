"""`install()` / `uninstall()`: bring back the TF1 names Keras 3 removed.

After `install()`, code written for the official shim runs unchanged:
`tf.compat.v1.keras.utils.track_tf1_style_variables`, `.get_or_create_layer`,
`.DeterministicRandomTestTool`, `tf.compat.v1.layers` and
`tf.compat.v1.nn.rnn_cell` resolve to tf1kit.
Only those names are touched, and `uninstall()` restores what was there.
"""

from __future__ import annotations

import sys
import threading

import tensorflow as tf

_MISSING = object()
_lock = threading.Lock()
_saved: list[tuple[object, str, object]] = []


def _targets():
    import tf1kit
    from tf1kit import layers
    from tf1kit.compat.rnn_cell import rnn_cell_targets
    from tf1kit.compat.slim import slim_targets

    utils = tf.compat.v1.keras.utils
    return [
        (utils, "track_tf1_style_variables", tf1kit.track_tf1_style_variables),
        (utils, "get_or_create_layer", tf1kit.get_or_create_layer),
        (utils, "DeterministicRandomTestTool", tf1kit.DeterministicRandomTestTool),
        (tf.compat.v1, "layers", layers),
        *rnn_cell_targets(),
        *slim_targets(),
    ]


def is_installed() -> bool:
    return bool(_saved)


def install() -> None:
    """Makes the TF1 shim names resolve to tf1kit. Safe to call twice."""
    with _lock:
        if _saved:
            return
        # `import tensorflow.compat.v1` (common in TF1 code) would otherwise load
        # a second copy of the module and rebind tf.compat.v1 without our names.
        sys.modules.setdefault("tensorflow.compat.v1", tf.compat.v1)
        for owner, name, replacement in _targets():
            _saved.append((owner, name, owner.__dict__.get(name, _MISSING)))
            setattr(owner, name, replacement)


def uninstall() -> None:
    """Puts back exactly what install() replaced."""
    with _lock:
        while _saved:
            owner, name, original = _saved.pop()
            if original is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, original)
