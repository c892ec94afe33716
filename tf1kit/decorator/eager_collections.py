"""Eager TF1 collections, one outermost call's worth at a time.

A TF1 model was built once, in a graph of its own, and that graph's
collections held what the build added: an activation per
`tf.compat.v1.add_to_collection`, an end point per layer. Eagerly there is one
global graph for the whole process, and a shim runs the forward pass on every
call, so those collections would grow by one build per call without end.

Each outermost decorated call that runs eagerly therefore takes back what the
previous one added before it starts: after a call, the collections hold what
was there before any call plus what the latest call added, as the graph of a
model built once would. Entries added outside decorated calls are never
touched. Inside a tf.function, TensorFlow gives the function graph
collections of its own, so nothing accumulates there.
"""

from __future__ import annotations

import threading

from tensorflow.python.framework import ops

_lock = threading.Lock()
_added_by_last_call: list = []  # (graph, key, entry)


def begin_eager_call():
    """Removes the previous call's additions; returns what `end_eager_call` needs.

    Reads the graph's collections dict directly (`Graph._collections`, key ->
    list, checked in tests/test_canary_internals.py): TF's public accessors
    take the graph lock and copy, several microseconds on every call.
    """
    graph = ops.get_default_graph()
    if _added_by_last_call:
        with _lock:
            for owner_graph, key, entry in _added_by_last_call:
                held = owner_graph.get_collection_ref(key)
                for index in range(len(held) - 1, -1, -1):
                    if held[index] is entry:
                        del held[index]
                        break
            _added_by_last_call.clear()
    return graph, {key: len(held) for key, held in graph._collections.items()}


def end_eager_call(started):
    """Remembers what this call added, for the next call to take back."""
    graph, lengths = started
    for key, held in list(graph._collections.items()):
        start = lengths.get(key, 0)
        if len(held) > start:
            with _lock:
                _added_by_last_call.extend((graph, key, entry) for entry in held[start:])
