"""Tells inspectors when a watched shim layer or module has finished a call.

The core decorator has no "call finished" hook, so a watched owner gets a thin
wrapper around its decorated method (an instance attribute for a Keras layer,
whose `__call__` looks up `self.call`; a per-class subclass for a `tf.Module`
decorated on `__call__`). Nested calls are folded: inspectors refresh once,
when the outermost watched call returns. Everything runs on the caller's
thread; nothing here starts threads.
"""

from __future__ import annotations

import collections
import functools
import itertools
import threading
import weakref

CALL_LOG_LENGTH = 20

_inspectors: "weakref.WeakKeyDictionary[object, weakref.WeakSet]" = weakref.WeakKeyDictionary()
_all_inspectors: "weakref.WeakSet" = weakref.WeakSet()
_state = threading.local()
_watched_classes: dict = {}
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
    """Runs one call of `owner`, logs it, and refreshes inspectors when outermost."""
    entry = _log_entry(owner, args, kwargs)
    depth = getattr(_state, "depth", 0)
    if depth == 0:
        _state.pending = {}
    _state.depth = depth + 1
    try:
        result = function(*args, **kwargs)
        entry["status"] = "ok"
        return result
    except BaseException as error:  # KeyboardInterrupt too: log it, then re-raise
        entry["status"] = type(error).__name__
        raise
    finally:
        _state.depth = depth
        for inspector in _inspectors.get(owner, ()):
            _state.pending[id(inspector)] = inspector
        if depth == 0:
            pending, _state.pending = _state.pending, {}
            _notify(pending.values())


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


# -- installing the wrappers ---------------------------------------------------

def watch(owner) -> None:
    """Makes `owner` report its calls (idempotent; cell layers already do)."""
    if getattr(type(owner), "_tf1kit_reports_calls", False) or owner.__dict__.get(
            "_tf1kit_watched"):
        return
    import keras

    if isinstance(owner, keras.layers.Layer):
        _wrap_instance_method(owner, "call")
    else:
        for name in tracked_method_names(type(owner)):
            if name.startswith("__"):
                owner.__class__ = _reporting_subclass(type(owner), name)
            else:
                _wrap_instance_method(owner, name)
    object.__setattr__(owner, "_tf1kit_watched", True)


def tracked_method_names(cls) -> list[str]:
    names = []
    for klass in cls.__mro__:
        for name, value in vars(klass).items():
            if getattr(value, "_tf1kit_tracked", False) and name not in names:
                names.append(name)
    return names


def _wrap_instance_method(owner, name):
    method = getattr(type(owner), name)
    owner_ref = weakref.ref(owner)  # the wrapper must not keep its owner alive

    @functools.wraps(method)
    def reporting(*args, **kwargs):
        owner = owner_ref()
        return run_reported(owner, functools.partial(method, owner), args, kwargs)

    object.__setattr__(owner, name, reporting)


def _reporting_subclass(cls, name):
    key = (cls, name)
    if key not in _watched_classes:
        original = getattr(cls, name)

        @functools.wraps(original)
        def reporting(self, *args, **kwargs):
            return run_reported(self, functools.partial(original, self), args, kwargs)

        _watched_classes[key] = type(cls.__name__, (cls,), {
            name: reporting, "__qualname__": cls.__qualname__,
            "__module__": cls.__module__, "_tf1kit_reports_calls": True})
    return _watched_classes[key]
