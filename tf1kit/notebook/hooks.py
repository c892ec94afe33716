"""Tells inspectors when a watched shim layer or module has finished a call.

One call observer, registered with the core decorator while an owner is
watched, logs each call of a watched owner and refreshes its inspectors. Nested
calls are folded: inspectors refresh once, when the outermost watched call
returns. Everything runs on the caller's thread; nothing here starts threads.
"""

from __future__ import annotations

import collections
import itertools
import threading
import weakref

from tf1kit.decorator import add_call_observer

CALL_LOG_LENGTH = 20

_inspectors: "weakref.WeakKeyDictionary[object, weakref.WeakSet]" = weakref.WeakKeyDictionary()
_all_inspectors: "weakref.WeakSet" = weakref.WeakSet()
_state = threading.local()
_sequence = itertools.count(1)  # orders call-log entries across owners


def attach(inspector, owners) -> None:
    _all_inspectors.add(inspector)
    for owner in owners:
        watch(owner)
        _inspectors.setdefault(owner, weakref.WeakSet()).add(inspector)


def detach(inspector) -> None:
    _all_inspectors.discard(inspector)
    for inspectors in list(_inspectors.values()):
        inspectors.discard(inspector)


def live_inspectors() -> list:
    return list(_all_inspectors)


def call_log(owner) -> collections.deque:
    log = owner.__dict__.get("_tf1kit_call_log")
    if log is None:
        log = collections.deque(maxlen=CALL_LOG_LENGTH)
        object.__setattr__(owner, "_tf1kit_call_log", log)
    return log


def run_reported(owner, function, args, kwargs):
    """Runs one call of `owner` as a reported call (cell layers report their own)."""
    finish = _begin(owner, args, kwargs)
    error = None
    try:
        return function(*args, **kwargs)
    except BaseException as exc:  # KeyboardInterrupt too: log it, then re-raise
        error = exc
        raise
    finally:
        finish(error)


def _begin(owner, args, kwargs):
    """Logs a call and returns what to run when it ends."""
    entry = _log_entry(owner, args, kwargs)
    depth = getattr(_state, "depth", 0)
    if depth == 0:
        _state.pending = {}
    _state.depth = depth + 1

    def finish(error):
        entry["status"] = "ok" if error is None else type(error).__name__
        _state.depth = depth
        for inspector in _inspectors.get(owner, ()):
            _state.pending[id(inspector)] = inspector
        if depth == 0:
            pending, _state.pending = _state.pending, {}
            _notify(pending.values())

    return finish


def _notify(inspectors):
    import tensorflow as tf

    if not tf.executing_eagerly():
        return  # a tf.function trace: values are symbolic; the callback covers fit
    for inspector in inspectors:
        inspector.after_call()


def _log_entry(owner, args, kwargs) -> dict:
    log = call_log(owner)
    entry = {
        "index": (log[-1]["index"] + 1) if log else 1,
        "owner": getattr(owner, "name", type(owner).__name__),
        "training": kwargs.get("training"),
        "input_shapes": [_shape_of(a) for a in args],
        "status": "running",
        "time": next(_sequence),
    }
    log.append(entry)
    return entry


def _shape_of(value):
    shape = getattr(value, "shape", None)
    if shape is None:
        return type(value).__name__
    try:
        return tuple(shape)
    except TypeError:
        return str(shape)


# -- watching calls through the core decorator's observer ------------------

_watched: "weakref.WeakSet" = weakref.WeakSet()


def watch(owner) -> None:
    """Makes `owner` report its decorated calls (idempotent; cell layers already do)."""
    if getattr(type(owner), "_tf1kit_reports_calls", False):
        return
    if not _watched:
        add_call_observer(_observe)
    _watched.add(owner)


def _observe(owner, args, kwargs):
    if owner in _watched:
        return _begin(owner, args, kwargs)
    return None


def tracked_method_names(cls) -> list[str]:
    names = []
    for klass in cls.__mro__:
        for name, value in vars(klass).items():
            if getattr(value, "_tf1kit_tracked", False) and name not in names:
                names.append(name)
    return names
