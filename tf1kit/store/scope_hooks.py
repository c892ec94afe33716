"""The two places where tf1kit hooks into TensorFlow's `variable_scope` module.

1. **Which store answers `get_variable`.** TensorFlow finds the variable
   store through `_get_default_variable_store()`, which reads a collection of
   the thread's default graph; `with_variable_store` swaps that collection's
   list, a generator context manager that allocates on every call and leaves
   the list swapped if interrupted between its steps. tf1kit reads a
   thread-local slot first instead: a decorated call sets and restores one
   attribute, nothing is allocated, and the lookup is faster than TF's. Where
   no decorated call runs in the thread, TensorFlow's own lookup answers.
2. **What `reuse` the code asked for.** In eager mode TensorFlow turns every
   `variable_scope(reuse=True)` into `AUTO_REUSE`, so a missing variable would
   be created silently. TF1 raised there. The hook keeps the requested value on
   the scope object (inherited by sub-scopes, as TF1 inherited `reuse`), and
   the store raises TF1's error when a variable is missing under `reuse=True`.

Both hooks are installed once, when tf1kit is imported; outside decorated
calls the first adds one attribute read and the second one attribute write
per `variable_scope` entry. `tests/test_canary_internals.py` checks the
TensorFlow functions they wrap.
"""

from __future__ import annotations

import threading

from tensorflow.python.framework import ops
from tensorflow.python.ops import variable_scope as tf_variable_scope


class _ThreadState(threading.local):
    """Per thread: the store of the running decorated call and its graph."""

    store = None
    graph = None
    depth = 0  # nesting of decorated calls; 0 outside any


active = _ThreadState()

_tensorflow_default_store = tf_variable_scope._get_default_variable_store
_tensorflow_pure_scope_enter = tf_variable_scope._pure_variable_scope.__enter__


def _default_variable_store():
    """TensorFlow's lookup, answered by the running decorated call if any."""
    store = active.store
    if store is not None:
        graph = ops.get_default_graph()
        # A tf.function traced inside the call builds a FuncGraph, which shares
        # the store in TF too; a fresh tf.Graph opened inside the call does not.
        if graph is active.graph or graph.building_function:
            return store
    return _tensorflow_default_store()


def _pure_scope_enter_remembering_reuse(self):
    requested = self._reuse
    parent = self._name_or_scope
    if not isinstance(parent, tf_variable_scope.VariableScope):
        parent = self._var_scope_store.current_scope
    scope = _tensorflow_pure_scope_enter(self)
    scope._tf1kit_reuse = requested or requested_reuse(parent)
    return scope


def requested_reuse(scope):
    """The `reuse` TF1 code asked for on `scope` (eager mode forgets it)."""
    if scope._reuse is True:  # reuse_variables(), or graph mode
        return True
    return getattr(scope, "_tf1kit_reuse", scope._reuse)


def install() -> None:
    tf_variable_scope._get_default_variable_store = _default_variable_store
    tf_variable_scope._pure_variable_scope.__enter__ = _pure_scope_enter_remembering_reuse


install()
