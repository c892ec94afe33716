"""The three worlds a worker process can run in.

- `tf1kit`: Keras 3, with `tf1kit.install()` making the TF1 shim names resolve.
- `official`: the official shim, `tf_keras` (Keras 2) via TF_USE_LEGACY_KERAS=1.
- `native`: Keras 3 alone; the networks are rewritten with Keras 3 layers.
- `raw`: no framework: the same ops on plain `tf.Variable`s in a `tf.Module`
  (networks/raw_ops.py). The floor every other world is a ratio to.

TF_USE_LEGACY_KERAS is read once, when TensorFlow is imported, so a world is
chosen per process and `enter` must run before anything imports TensorFlow.
"""

import os
import sys
import time

WORLDS = ("tf1kit", "official", "native", "raw")


def enter(world: str, threads: int = 1) -> dict:
    """Imports TensorFlow for `world`; returns the import times in ms.

    `threads` caps TensorFlow's intra- and inter-op thread pools (0 keeps
    TensorFlow's default). One thread by default: the shim's cost is Python
    work on the calling thread, and on a small shared machine single-threaded
    kernels make the worlds' timings far less sensitive to other load.
    """
    if world not in WORLDS:
        raise ValueError(f"unknown world {world!r}; expected one of {WORLDS}")
    if "tensorflow" in sys.modules:
        raise RuntimeError("enter() must run before TensorFlow is imported")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if world == "official":
        os.environ["TF_USE_LEGACY_KERAS"] = "1"
    else:
        os.environ.pop("TF_USE_LEGACY_KERAS", None)
    started = time.perf_counter()
    import tensorflow  # noqa: F401
    imported_tensorflow = time.perf_counter()
    times = {"import_tensorflow_ms": 1000 * (imported_tensorflow - started)}
    if world == "tf1kit":
        import tf1kit

        tf1kit.install()
        times["import_tf1kit_ms"] = 1000 * (time.perf_counter() - imported_tensorflow)
    if threads:
        tensorflow.config.threading.set_intra_op_parallelism_threads(threads)
        tensorflow.config.threading.set_inter_op_parallelism_threads(threads)
    _check(world)
    return times


def optimizer(world: str, learning_rate: float = 1e-3):
    """Each world's idiomatic optimizer: Keras 3 Adam, or tf_keras Adam.

    The raw world uses Keras 3's Adam too (it updates plain tf.Variables), so
    its train step differs from tf1kit's and native's only in the forward pass.
    """
    if world == "official":
        import tf_keras

        return tf_keras.optimizers.Adam(learning_rate)
    import keras

    return keras.optimizers.Adam(learning_rate)


def _check(world: str):
    """Fails loudly if the process did not get the world it asked for."""
    import tensorflow as tf

    keras_module = type(tf.keras.layers.Layer).__module__ + "." + tf.keras.layers.Layer.__module__
    decorator = getattr(tf.compat.v1.keras.utils, "track_tf1_style_variables", None)
    decorator_module = getattr(decorator, "__module__", "") or ""
    if world == "official":
        expected = "tf_keras" in keras_module and decorator_module.startswith("tf_keras")
    elif world == "tf1kit":
        expected = "tf_keras" not in keras_module and decorator_module.startswith("tf1kit")
    else:
        expected = "tf_keras" not in keras_module
    if not expected:
        raise RuntimeError(
            f"world {world!r} is not set up as expected: tf.keras Layer from "
            f"{keras_module!r}, track_tf1_style_variables from {decorator_module!r}")
