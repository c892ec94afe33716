"""Tracebacks that start with the user's code.

An error in a `%%tf1layer` cell travels through tf1kit's own call machinery
(the decorator, call reporting, the custom getter) before it reaches the
user. Those frames say nothing actionable, so they are cut out of the
traceback, the way Keras cuts its own frames: only while Keras' traceback
filtering is on (`keras.config.disable_traceback_filtering()` shows them all).
"""

from __future__ import annotations

import os
import types

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def is_tf1kit_file(filename: str) -> bool:
    return os.path.abspath(filename).startswith(_PACKAGE_DIR)


def filtering_enabled() -> bool:
    import keras

    return keras.config.is_traceback_filtering_enabled()


def without_tf1kit_frames(error: BaseException) -> BaseException:
    """`error` with tf1kit's frames removed from its traceback (when filtering
    is on), and from the tracebacks of the errors chained to it: IPython shows
    those too ("The above exception was the direct cause..."), and tf1kit
    chains one where it names the variable at fault."""
    if not filtering_enabled():
        return error
    seen = set()
    chained = error
    while chained is not None and id(chained) not in seen:
        seen.add(id(chained))
        _strip(chained)
        chained = chained.__cause__ or chained.__context__
    return error


def _strip(error: BaseException) -> None:
    kept = []
    tb = error.__traceback__
    while tb is not None:
        if not is_tf1kit_file(tb.tb_frame.f_code.co_filename):
            kept.append(tb)
        tb = tb.tb_next
    rebuilt = None
    for entry in reversed(kept):
        rebuilt = types.TracebackType(rebuilt, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    error.with_traceback(rebuilt)
