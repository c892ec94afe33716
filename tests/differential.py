"""Differential testing against the official shim.

A *case* is a snippet of TF1-style Python source written against the names the
official shim uses (`tf.compat.v1.keras.utils.*`, `tf.compat.v1.layers.*`).
The snippet fills a dict called `result` with arrays, numbers, strings or
lists of them. The same source runs twice:

* here, after `tf1kit.install()` (Keras 3), and
* in one subprocess with `tf_keras` and `TF_USE_LEGACY_KERAS=1` (Keras 2).

Test modules register cases at import time with `case(name, source)`. The
first test that asks for an official result runs *every* registered case in a
single subprocess, so the suite pays for one extra TensorFlow import.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import tempfile
import textwrap

import numpy as np

PRELUDE = """\
import numpy as np
import tensorflow as tf
v1 = tf.compat.v1
result = {}
"""

_CASES: dict[str, str] = {}
_OFFICIAL: dict[str, dict] | None = None


def case(name: str, source: str) -> str:
    """Register a case; returns its name for the test to look up."""
    if name in _CASES and _CASES[name] != textwrap.dedent(source):
        raise ValueError(f"differential case {name!r} registered twice")
    _CASES[name] = textwrap.dedent(source)
    return name


def _to_plain(value):
    """Turns tensors and variables into numpy so results can be pickled."""
    if isinstance(value, dict):
        return {k: _to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_plain(v) for v in value]
    if isinstance(value, (str, bytes, bool, int, float, type(None))):
        return value
    if hasattr(value, "numpy"):
        return np.asarray(value.numpy())
    return np.asarray(value)


def run_source(source: str) -> dict:
    """Runs one case in this process; an exception becomes {'error': ...}."""
    namespace: dict = {}
    try:
        exec(compile(PRELUDE + source, "<case>", "exec"), namespace)
    except Exception as exc:  # noqa: BLE001 - errors are part of the result
        return {"error": f"{type(exc).__name__}: {exc}"}
    return _to_plain(namespace["result"])


_CHILD = """
import json, os, pickle, sys
sys.path.insert(0, {tests_dir!r})
import differential
cases = json.load(open(sys.argv[1]))
out = {{name: differential.run_source(src) for name, src in cases.items()}}
pickle.dump(out, open(sys.argv[2], "wb"))
"""


def run_official(cases: dict[str, str]) -> dict[str, dict]:
    """Runs cases under the official shim (tf_keras) in a subprocess."""
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("PYTHONPATH", None)
    with tempfile.TemporaryDirectory() as tmp:
        cases_path = os.path.join(tmp, "cases.json")
        out_path = os.path.join(tmp, "out.pkl")
        with open(cases_path, "w") as f:
            json.dump(cases, f)
        child = _CHILD.format(tests_dir=os.path.dirname(__file__))
        proc = subprocess.run(
            [sys.executable, "-c", child, cases_path, out_path],
            env=env, capture_output=True, text=True, timeout=1200,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"official shim subprocess failed:\n{proc.stderr[-4000:]}")
        with open(out_path, "rb") as f:
            return pickle.load(f)


def official(name: str) -> dict:
    """The official shim's result for a registered case (runs all once)."""
    global _OFFICIAL
    if _OFFICIAL is None:
        _OFFICIAL = run_official(_CASES)
    return _OFFICIAL[name]


def ours(name: str) -> dict:
    """tf1kit's result for a registered case, run in this process."""
    import tf1kit

    tf1kit.install()
    return run_source(_CASES[name])


def assert_same(expected, actual, rtol=1e-6, atol=1e-6, path="result"):
    """Deep comparison: exact for names and structure, close for numbers."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: expected dict, got {actual!r}"
        assert sorted(expected) == sorted(actual), (
            f"{path}: keys differ: official {sorted(expected)} vs tf1kit {sorted(actual)}")
        for key in expected:
            assert_same(expected[key], actual[key], rtol, atol, f"{path}[{key!r}]")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(expected) == len(actual), (
            f"{path}: official {expected!r} vs tf1kit {actual!r}")
        for i, (e, a) in enumerate(zip(expected, actual)):
            assert_same(e, a, rtol, atol, f"{path}[{i}]")
    elif isinstance(expected, np.ndarray):
        actual = np.asarray(actual)
        assert expected.shape == actual.shape, (
            f"{path}: shape official {expected.shape} vs tf1kit {actual.shape}")
        if expected.dtype.kind in "fc":
            np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=path)
        else:
            np.testing.assert_array_equal(actual, expected, err_msg=path)
    else:
        assert expected == actual, f"{path}: official {expected!r} vs tf1kit {actual!r}"
