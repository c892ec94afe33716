"""KeyboardInterrupt injection for tests (a helper, no tests here).

`interrupt_at(k)` counts every call and return event of a Python frame whose
code lives in tf1kit's package (sys.settrace) and raises KeyboardInterrupt at
the k-th, the way a signal lands between two steps of tf1kit's code. With k=0
it only counts: `interrupt_at(0).events` after a run is the number of points.

`interrupt_at(k, within="name")` also counts the events of the frames that
tf1kit's function `name` calls directly, Keras' and TensorFlow's too: an
interrupt just before or just after each of its steps (deeper frames are left
alone: an interrupt inside TensorFlow's own context managers can leave
TensorFlow itself broken, e.g. gradient recording paused, which is not
tf1kit's state).
"""

from __future__ import annotations

import os
import sys

import tf1kit

TF1KIT_DIR = os.path.dirname(tf1kit.__file__) + os.sep


class interrupt_at:
    """Raises KeyboardInterrupt at the k-th call/return event in tf1kit's frames."""

    def __init__(self, k, within=None):
        self.k, self.events, self.within = k, 0, within

    def __enter__(self):
        # Python ignores an exception raised while a generator is being closed
        # (a short-circuited genexpr): such an interrupt never reaches the call.
        self.swallowed = self.fired = False
        self._unraisable_hook, sys.unraisablehook = sys.unraisablehook, self._unraisable
        sys.settrace(self._global)
        return self

    def __exit__(self, *exc):
        sys.settrace(None)
        sys.unraisablehook = self._unraisable_hook
        return False

    def _unraisable(self, unraisable):
        if isinstance(unraisable.exc_value, KeyboardInterrupt):
            self.swallowed = True
        else:
            self._unraisable_hook(unraisable)

    def _count(self):
        self.events += 1
        if self.events == self.k:
            self.fired = True
            raise KeyboardInterrupt(f"injected at event {self.k}")

    def _global(self, frame, event, arg):
        if not self._watched(frame):
            return None
        frame.f_trace_lines = False
        self._count()
        return self._local

    def _watched(self, frame) -> bool:
        if self.within is None:
            return frame.f_code.co_filename.startswith(TF1KIT_DIR)
        for candidate in (frame, frame.f_back):
            code = candidate.f_code if candidate is not None else None
            if (code is not None and code.co_name == self.within
                    and code.co_filename.startswith(TF1KIT_DIR)):
                return True
        return False

    def _local(self, frame, event, arg):
        if event == "return":
            self._count()
        return self._local


def caused_by_the_interrupt(exc):
    """The injected KeyboardInterrupt, or an error TF raised while unwinding it
    (TF's variable_scope reports "Improper nesting" when interrupted on entry)."""
    while exc is not None:
        if isinstance(exc, KeyboardInterrupt):
            return True
        exc = exc.__cause__ or exc.__context__
    return False
