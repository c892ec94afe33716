"""`tf.compat.v1.layers.experimental`: Keras-style TF1 layers.

TF1 layers normally share variables through variable scopes: a layer picks
its scope on the first call (`dense`, `dense_1`, ...), and `reuse=True` or a
`scope=` argument can point two layers at the same variables. A layer created
inside `keras_style_scope()` (or after `set_keras_style()`) manages its
variables as a Keras layer does instead:

* it owns its variables; they are made when it is built (first call) under
  its own unique layer name (`dense_1/kernel`) and never looked up by name,
  so two layers never share, whatever the enclosing scope's `reuse`;
* `scope=` (at call) and `reuse=` / a named functional scope are refused.

Inside a decorated call the variables still land in the owner's store, so
the owner tracks, trains and saves them as usual.

Example:

```python
with tf.compat.v1.layers.experimental.keras_style_scope():
    first = tf.compat.v1.layers.Dense(3)
    second = tf.compat.v1.layers.Dense(3)
first(x); second(x)          # two distinct kernels: dense_1/kernel, dense_2/kernel
```
"""

from __future__ import annotations

import contextlib
import threading

_state = threading.local()
_forever = False


@contextlib.contextmanager
def keras_style_scope():
    """Layers created in this scope manage their variables Keras-style."""
    previous = getattr(_state, "active", False)
    _state.active = True
    try:
        yield
    finally:
        _state.active = previous


def set_keras_style():
    """From now on, every new TF1 layer is Keras-style (cannot be undone)."""
    global _forever
    _forever = True


def in_keras_style() -> bool:
    return _forever or getattr(_state, "active", False)


def refuse_scope_argument(kind: str, value):
    raise ValueError(
        f"{kind} argument not allowed when keras style layers are enabled, "
        f"but saw: {value}. A layer created inside keras_style_scope() or after "
        "set_keras_style() owns its variables; create it outside that scope to "
        "share variables through variable scopes.")
