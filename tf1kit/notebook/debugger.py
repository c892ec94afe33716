"""`%tf1debug`: pdb that stops in the TF1 forward pass and refreshes inspectors.

The expression runs with tf.function disabled, under a Pdb that ignores every
frame until a decorated call begins (noticed through the core decorator's
call observer), then stops at the first line of user code: the decorated method
or the `%%tf1layer` cell. Library frames (site-packages, the standard library,
tf1kit itself) are never stopped in. Each stop refreshes the open inspectors
before the prompt, so stepping shows variables appear one by one.
"""

from __future__ import annotations

import contextlib
import os
import sys
import sysconfig

import tensorflow as tf
from IPython.core.debugger import Pdb

from tf1kit.notebook import hooks
from tf1kit.decorator import add_call_observer, remove_call_observer

_LIBRARY_DIRS = tuple(sorted({
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep,  # tf1kit
    *(sysconfig.get_paths()[key] + os.sep for key in ("stdlib", "platstdlib", "purelib",
                                                        "platlib")),
    sys.prefix + os.sep, sys.base_prefix + os.sep, sys.exec_prefix + os.sep,
}))


def is_user_code(filename: str) -> bool:
    """Cells (<ipython-input-...>, ipykernel temp files) and the user's own files."""
    if filename.startswith("<"):
        return not (filename.startswith("<frozen") or filename == "<string>")
    return not os.path.abspath(filename).startswith(_LIBRARY_DIRS)


class InspectingPdb(Pdb):
    """A Pdb that refreshes inspectors at every stop and only stops in user code."""

    def __init__(self, *args, stop_at_first_line=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.waiting_for_forward = stop_at_first_line
        self.armed = False
        self.stops = 0
        self.debugged_owners = []  # the decorated owners this run has called

    def stop_here(self, frame):
        if not is_user_code(frame.f_code.co_filename):
            return False
        if self.waiting_for_forward:
            if not self.armed:
                return False
            self.waiting_for_forward = False
            self._entering = True
            self._set_stopinfo(None, None)  # step mode: stop on this frame's first line
            return True
        return super().stop_here(frame)

    def user_call(self, frame, argument_list):
        if getattr(self, "_entering", False):
            self._entering = False  # trace the forward pass, but stop on its first line
            return
        return super().user_call(frame, argument_list)

    def interaction(self, frame, traceback):
        self.stops += 1
        where = f"pdb stop {self.stops}: line {frame.f_lineno}" if frame else "pdb stop"
        # Only the views of what is being debugged; others keep their state and label.
        for inspector in hooks.inspectors_of(self.debugged_owners):
            hooks.guarded(inspector, inspector.refresh, where)
        return super().interaction(frame, traceback)


def debug_expression(shell, expression: str, stop_at_first_line: bool = True, stdin=None,
                     stdout=None):
    """Evaluates `expression` in the user namespace under InspectingPdb."""
    try:
        code = compile(expression, "<tf1debug>", "eval")
    except SyntaxError as error:
        from IPython.core.error import UsageError

        raise UsageError(f"%tf1debug: {expression!r} is not an expression ({error.msg}).") from None
    debugger = InspectingPdb(stdin=stdin, stdout=stdout, stop_at_first_line=stop_at_first_line)
    with _eager_functions(), _arm_on_decorated_call(debugger), _breakpoints_to(debugger):
        namespace = shell.user_ns
        if not stop_at_first_line:  # no tracing until breakpoint() calls set_trace
            try:
                return eval(code, namespace, namespace)
            finally:
                debugger.quitting = True
                sys.settrace(None)
        return debugger.runeval(code, namespace, namespace)


@contextlib.contextmanager
def _eager_functions():
    previous = tf.config.functions_run_eagerly()
    tf.config.run_functions_eagerly(True)
    try:
        yield
    finally:
        tf.config.run_functions_eagerly(previous)


@contextlib.contextmanager
def _arm_on_decorated_call(debugger):
    """Arms the debugger as each decorated call starts (a core call observer)."""
    def arm(owner, args, kwargs):
        debugger.armed = True
        if not any(owner is seen for seen in debugger.debugged_owners):
            debugger.debugged_owners.append(owner)

    add_call_observer(arm)
    try:
        yield
    finally:
        remove_call_observer(arm)


@contextlib.contextmanager
def _breakpoints_to(debugger):
    """`breakpoint()` in the cell stops in this debugger, not a fresh one."""
    previous = sys.breakpointhook
    sys.breakpointhook = lambda *args, **kwargs: debugger.set_trace(sys._getframe(1))
    try:
        yield
    finally:
        sys.breakpointhook = previous
