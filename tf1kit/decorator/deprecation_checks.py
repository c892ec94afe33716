"""TensorFlow's deprecation checks run on an owner's first call only.

TF 1.x ran model code once, to build its graph, and its deprecation warnings
were printed then. A shim runs the code again on every eager call, and some
of TensorFlow's deprecation wrappers bind every call's arguments with
`inspect` before they know whether anything is deprecated: `VarianceScaling`'s
constructor has one, so every `glorot_uniform_initializer()` or
`variance_scaling_initializer()` written in a forward pass paid for it, 6-16%
of an eager call of the benchmark networks (benchmarks/RESULTS.md).

An owner's first call, and every call traced into a graph, keeps the checks
and warns as TF1's graph building did. Later eager calls of an owner turn
them off through TensorFlow's own switch, the flag its `silence()` sets. The
flag is process-wide: it stays off while any thread is inside such a call and
is put back as it was found when the last one leaves. The only warnings lost
are those a later call would have printed for the first time (code that the
first call did not run); TensorFlow prints each of them once per process anyway.
"""

from __future__ import annotations

import threading

from tensorflow.python.util import deprecation

_lock = threading.Lock()
_quiet_threads: set = set()
_flag_found = True


def begin() -> None:
    """This thread starts a later eager call; the checks go off."""
    global _flag_found
    with _lock:
        if not _quiet_threads:
            _flag_found = deprecation._PRINT_DEPRECATION_WARNINGS
        # One C call: an interrupt lands before or after it, never inside.
        _quiet_threads.add(threading.get_ident())
        deprecation._PRINT_DEPRECATION_WARNINGS = False


def end() -> None:
    """This thread's call is over; the last one out puts the flag back."""
    with _lock:
        ident = threading.get_ident()
        if ident not in _quiet_threads:  # begin() was interrupted before it began
            return
        _quiet_threads.discard(ident)
        if not _quiet_threads:
            deprecation._PRINT_DEPRECATION_WARNINGS = _flag_found
