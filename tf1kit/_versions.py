"""Refuses to run on TensorFlow/Keras versions tf1kit was not built for."""

from __future__ import annotations

import os
import warnings

MIN_TENSORFLOW = (2, 16)
KERAS_MAJOR = 3
# The newest releases the tests ran on; pyproject.toml bounds both to these.
TESTED_TENSORFLOW = (2, 21)
TESTED_KERAS = (3, 15)


class UnsupportedVersionError(ImportError):
    """Raised by `import tf1kit` on an unsupported TensorFlow or Keras."""


def _release(version: str) -> tuple[int, ...]:
    parts = []
    for piece in version.split(".")[:2]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def check_versions() -> None:
    if os.environ.get("TF_USE_LEGACY_KERAS", "").lower() in ("1", "true", "yes"):
        raise UnsupportedVersionError(
            "tf1kit runs TF1 code on Keras 3, but TF_USE_LEGACY_KERAS is set, which "
            "makes tf.keras the frozen Keras 2 (tf_keras). Unset TF_USE_LEGACY_KERAS "
            "before importing TensorFlow.")
    try:
        import tensorflow as tf
    except ImportError as exc:
        raise UnsupportedVersionError(
            "tf1kit needs TensorFlow 2.16 or newer. Install it with "
            "`pip install tf1kit[tensorflow]` (or `tf1kit[cpu]` for tensorflow-cpu).") from exc
    import keras

    if _release(tf.__version__) < MIN_TENSORFLOW:
        raise UnsupportedVersionError(
            f"tf1kit needs TensorFlow >= 2.16 (Keras 3); found TensorFlow {tf.__version__}. "
            "On older TensorFlow the official shim in tf.compat.v1.keras.utils still exists.")
    if _release(keras.__version__)[0] != KERAS_MAJOR:
        raise UnsupportedVersionError(
            f"tf1kit needs Keras 3; found Keras {keras.__version__}.")
    if _release(tf.__version__) > TESTED_TENSORFLOW or _release(keras.__version__) > TESTED_KERAS:
        warnings.warn(
            f"tf1kit was tested up to TensorFlow {_spell(TESTED_TENSORFLOW)} and Keras "
            f"{_spell(TESTED_KERAS)}; found TensorFlow {tf.__version__} and Keras "
            f"{keras.__version__}. It relies on a few of their internals: run "
            "tests/test_canary_internals.py to check them on this version.",
            UserWarning, stacklevel=3)


def _spell(release) -> str:
    return ".".join(map(str, release))
