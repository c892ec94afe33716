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

`graph_case(name, source)` registers TF1 graph-mode source (the other oracle):
`tf1_graph(name)` runs it in that subprocess, inside a fresh `tf.Graph`, where
`tf.compat.v1.layers` are TF1's own graph layers and tf1kit cannot be
imported, so the result is TF 1.x's and never tf1kit's. `tf1kit_graph(name)`
runs the same source here, in a fresh graph built by tf1kit's layers.

Each oracle case finds in `ARTIFACTS` a directory of its own that outlives
the subprocess (`artifacts(name)` gives it to the test): a graph case writes
its TF1 Saver checkpoint there for tf1kit to load.

A world that raises fails the test (`CaseError`), naming the world and
showing its traceback, unless the case was registered with
`expect_error=True`; then the result is `{"error": "Type: message"}`.
"""

from __future__ import annotations

import atexit
import json
import os
import pickle
import shutil
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
_GRAPH_CASES: set[str] = set()
_EXPECT_ERROR: set[str] = set()
_OFFICIAL: dict[str, dict] | None = None
_ARTIFACTS: str | None = None


class CaseError(AssertionError):
    """A world raised while running a case that expected no error."""


def case(name: str, source: str, expect_error: bool = False) -> str:
    """Register a case for the official shim and tf1kit; returns its name."""
    source = textwrap.dedent(source)
    if name in _CASES and _CASES[name] != source:
        raise ValueError(f"differential case {name!r} registered twice")
    _CASES[name] = source
    if expect_error:
        _EXPECT_ERROR.add(name)
    return name


def graph_case(name: str, source: str, expect_error: bool = False) -> str:
    """Register TF1 graph-mode source, run only where tf1kit is absent."""
    case(name, source, expect_error)
    _GRAPH_CASES.add(name)
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


def artifacts(name: str) -> str:
    """The directory where the oracle's run of case `name` left its files."""
    global _ARTIFACTS
    if _ARTIFACTS is None:
        _ARTIFACTS = tempfile.mkdtemp(prefix="tf1kit-oracle-")
        atexit.register(shutil.rmtree, _ARTIFACTS, ignore_errors=True)
    return os.path.join(_ARTIFACTS, name)


def run_source(source: str, in_graph: bool = False, artifacts_dir: str | None = None) -> dict:
    """Runs one case in this process; an exception becomes {'error': ...}
    with its traceback under 'traceback'. `in_graph` runs it inside a fresh
    `tf.Graph` (TF1 graph mode); `artifacts_dir` becomes `ARTIFACTS`."""
    namespace: dict = {}
    if artifacts_dir is not None:
        os.makedirs(artifacts_dir, exist_ok=True)
        namespace["ARTIFACTS"] = artifacts_dir
    try:
        code = compile(PRELUDE + source, "<case>", "exec")
        if in_graph:
            import tensorflow as tf

            with tf.Graph().as_default():
                exec(code, namespace)
        else:
            exec(code, namespace)
        return _to_plain(namespace["result"])
    except Exception as exc:  # noqa: BLE001 - errors are part of the result
        import traceback

        return {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}


class _RefuseTf1kit:
    """Import hook for the oracle process: tf1kit must never run there."""

    def find_spec(self, name, path=None, target=None):
        if name == "tf1kit" or name.startswith("tf1kit."):
            raise ImportError("tf1kit is not importable in the oracle process")
        return None


_CHILD = """
import json, os, pickle, sys
sys.path.insert(0, {tests_dir!r})
import differential
sys.meta_path.insert(0, differential._RefuseTf1kit())
spec = json.load(open(sys.argv[1]))
out = {{name: differential.run_source(src, in_graph=name in spec["graph"],
                                      artifacts_dir=os.path.join(spec["artifacts"], name))
        for name, src in spec["cases"].items()}}
assert not any(m == "tf1kit" or m.startswith("tf1kit.") for m in sys.modules)
pickle.dump(out, open(sys.argv[2], "wb"))
"""


def run_official(cases: dict[str, str], graph_cases=()) -> dict[str, dict]:
    """Runs cases under the official shim (tf_keras) in a subprocess;
    those named in `graph_cases` run in a TF1 graph there."""
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("PYTHONPATH", None)
    with tempfile.TemporaryDirectory() as tmp:
        cases_path = os.path.join(tmp, "cases.json")
        out_path = os.path.join(tmp, "out.pkl")
        with open(cases_path, "w") as f:
            json.dump({"cases": cases, "graph": sorted(graph_cases),
                       "artifacts": os.path.dirname(artifacts("-"))}, f)
        child = _CHILD.format(tests_dir=os.path.dirname(__file__))
        proc = subprocess.run(
            [sys.executable, "-c", child, cases_path, out_path],
            env=env, capture_output=True, text=True, timeout=1200,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"official shim subprocess failed:\n{proc.stderr[-4000:]}")
        with open(out_path, "rb") as f:
            return pickle.load(f)


def _checked(name: str, world: str, result: dict) -> dict:
    if name not in _EXPECT_ERROR and isinstance(result, dict) and "error" in result:
        raise CaseError(f"case {name!r} raised under {world}: {result['error']}\n"
                        f"{result.get('traceback', '')}")
    return result


def _oracle_results() -> dict:
    global _OFFICIAL
    if _OFFICIAL is None:
        _OFFICIAL = run_official(_CASES, _GRAPH_CASES)
    return _OFFICIAL


def official(name: str) -> dict:
    """The official shim's result for a registered case (runs all once)."""
    if name in _GRAPH_CASES:
        raise ValueError(f"{name!r} is a graph case: use tf1_graph()")
    return _checked(name, "the official shim", _oracle_results()[name])


def tf1_graph(name: str) -> dict:
    """TF 1.x's result for a graph case: a TF1 graph with no tf1kit in the process."""
    if name not in _GRAPH_CASES:
        raise ValueError(f"{name!r} is not a graph case: register it with graph_case()")
    return _checked(name, "the TF1 graph oracle", _oracle_results()[name])


def tf1kit_graph(name: str) -> dict:
    """tf1kit's result for a graph case: the same TF1 graph source run here, in
    a fresh tf.Graph after `tf1kit.install()`, so tf1kit's layers build it."""
    import tf1kit

    if name not in _GRAPH_CASES:
        raise ValueError(f"{name!r} is not a graph case: register it with graph_case()")
    tf1kit.install()
    return _checked(name, "tf1kit in a TF1 graph",
                    run_source(_CASES[name], in_graph=True,
                               artifacts_dir=artifacts(name) + ".tf1kit_graph"))


def ours(name: str) -> dict:
    """tf1kit's result for a registered case, run in this process."""
    import tf1kit

    if name in _GRAPH_CASES:
        raise ValueError(f"{name!r} is a graph case: it runs in the oracle process only")
    tf1kit.install()
    return _checked(name, "tf1kit",
                    run_source(_CASES[name], artifacts_dir=artifacts(name) + ".tf1kit"))


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
