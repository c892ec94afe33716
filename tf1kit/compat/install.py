"""`install()` / `uninstall()`: bring back the TF1 names Keras 3 removed.

After `install()`, code written for the official shim runs unchanged:
`tf.compat.v1.keras.utils.track_tf1_style_variables`, `.get_or_create_layer`,
`.DeterministicRandomTestTool`, `tf.compat.v1.layers` and
`tf.compat.v1.nn.rnn_cell` resolve to tf1kit.
`install(contrib=True)` also serves `tf.compat.v1.contrib` (and
`import tensorflow.contrib...`) from TF-Slim. Only those names are touched,
and `uninstall()` restores what was there.
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


def install(contrib: bool = False) -> None:
    """Makes the TF1 shim names resolve to tf1kit. Safe to call twice.

    contrib: also serve `tf.compat.v1.contrib.layers` / `.framework` /
    `.slim` from the tf-slim package (see tf1kit.compat.contrib).
    """
    with _lock:
        # `import tensorflow.compat.v1` (common in TF1 code, tf_slim included)
        # would otherwise load a second copy of the module and rebind
        # tf.compat.v1 without our names; first of all, before slim is imported.
        sys.modules.setdefault("tensorflow.compat.v1", tf.compat.v1)
        targets = [] if _saved else _targets()
        if contrib and not any(name == "contrib" for _, name, _ in _saved):
            from tf1kit.compat.contrib import contrib_targets

            targets += contrib_targets()
        for owner, name, replacement in targets:
            _saved.append((owner, name, _current(owner, name)))
            _put(owner, name, replacement)


def uninstall() -> None:
    """Puts back exactly what install() replaced."""
    with _lock:
        while _saved:
            owner, name, original = _saved.pop()
            _put(owner, name, original)


# Owners are modules (attributes) or sys.modules (keys).
def _current(owner, name):
    if isinstance(owner, dict):
        return owner.get(name, _MISSING)
    return owner.__dict__.get(name, _MISSING)


def _put(owner, name, value):
    if isinstance(owner, dict):
        if value is _MISSING:
            owner.pop(name, None)
        else:
            owner[name] = value
    elif value is _MISSING:
        delattr(owner, name)
    else:
        setattr(owner, name, value)
