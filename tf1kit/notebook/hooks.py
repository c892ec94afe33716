"""Tells inspectors when a watched shim layer or module has finished a call.

One call observer, registered with the core decorator while a plain decorated
owner is watched, logs each call of a watched owner; `%%tf1layer` classes log
their own calls. Nested calls are folded: inspectors hear once, when the
outermost watched call returns. Everything runs on the caller's thread.

A notebook tool must never break the model it watches: every inspector action
that runs inside a call is guarded, and an inspector that fails is closed
with a warning while the call goes on.
"""

from __future__ import annotations

import collections
import itertools
import sys
import threading
import warnings
import weakref

from tf1kit.decorator import add_call_observer, remove_call_observer

CALL_LOG_LENGTH = 20

_inspectors: "weakref.WeakKeyDictionary[object, weakref.WeakSet]" = weakref.WeakKeyDictionary()
_all_inspectors: "weakref.WeakSet" = weakref.WeakSet()
_pending: "weakref.WeakSet" = weakref.WeakSet()  # refreshes owed at the end of the cell
_state = threading.local()
_sequence = itertools.count(1)  # orders call-log entries across owners


def attach(inspector, owners) -> None:
    _all_inspectors.add(inspector)
    for owner in owners:
        watch(owner)
        _inspectors.setdefault(owner, weakref.WeakSet()).add(inspector)


def detach(inspector) -> None:
    _all_inspectors.discard(inspector)
    _pending.discard(inspector)
    for owner, inspectors in list(_inspectors.items()):
        inspectors.discard(inspector)
        if not inspectors:
            del _inspectors[owner]
            _unwatch(owner)


def live_inspectors() -> list:
    return list(_all_inspectors)


def inspectors_of(owners) -> list:
    """The open inspectors that show any of `owners`, each once."""
    found = {}
    for owner in owners:
        for inspector in _inspectors.get(owner, ()):
            found[id(inspector)] = inspector
    return list(found.values())


def variables_changed(owner, reason: str) -> None:
    """Refreshes the inspectors of `owner` after tf1kit itself changed its variables."""
    for inspector in inspectors_of([owner]):
        guarded(inspector, inspector.refresh, reason)


def guarded(inspector, action, *args):
    """Runs an inspector action; a failure closes that inspector, never the call."""
    try:
        return action(*args)
    except Exception as error:  # noqa: BLE001 - any failure of a view is contained
        warnings.warn(
            f"tf1kit: the inspector of {getattr(inspector, 'label', '?')!r} failed "
            f"({type(error).__name__}: {error}) and was closed; the model is not affected.",
            RuntimeWarning, stacklevel=2)
        try:
            inspector.close()
        except Exception:  # noqa: BLE001
            detach(inspector)
        return None


# -- refreshes owed until the end of the cell --------------------------------

_flushing_shells: "weakref.WeakSet" = weakref.WeakSet()


def refresh_after_cell(inspector) -> None:
    """Makes sure `inspector` is refreshed once the running cell ends.

    Refreshes during calls are throttled; this one brings the view up to date
    after the last call, on the kernel's main thread, outside any call.
    """
    _pending.add(inspector)
    shell = _ipython_shell()
    if shell is not None and shell not in _flushing_shells:
        shell.events.register("post_run_cell", _flush_pending)
        _flushing_shells.add(shell)


def _flush_pending(*_result):
    pending = list(_pending)
    _pending.clear()
    for inspector in pending:
        guarded(inspector, inspector.flush)


def _ipython_shell():
    ipython = sys.modules.get("IPython")  # never import IPython for this
    return ipython.get_ipython() if ipython is not None else None


# -- the call log --------------------------------------------------------------

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
    """Logs a call and returns what to run when it ends (neither raises)."""
    try:
        entry = _log_entry(owner, args, kwargs)
    except Exception:  # noqa: BLE001 - an odd argument must not fail the call
        entry = {}
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
        guarded(inspector, inspector.after_call)


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
_observer = {"added": False}


def watch(owner) -> None:
    """Makes `owner` report its decorated calls (idempotent; cell layers already do)."""
    if getattr(type(owner), "_tf1kit_reports_calls", False):
        return
    _watched.add(owner)
    if not _observer["added"]:
        # Once: the set can empty by garbage collection without us knowing.
        add_call_observer(_observe)
        _observer["added"] = True


def _unwatch(owner) -> None:
    _watched.discard(owner)
    if not _watched and _observer["added"]:
        remove_call_observer(_observe)
        _observer["added"] = False


def _observe(owner, args, kwargs):
    try:
        if owner in _watched:
            return _begin(owner, args, kwargs)
    except Exception:  # noqa: BLE001 - an owner that cannot be hashed or logged
        pass
    return None


def tracked_method_names(cls) -> list[str]:
    names = []
    for klass in cls.__mro__:
        for name, value in vars(klass).items():
            if getattr(value, "_tf1kit_tracked", False) and name not in names:
                names.append(name)
    return names
