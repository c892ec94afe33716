"""Shared test setup: quiet TensorFlow, two logical CPUs, `differential` importable."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(__file__))


def _split_cpu_in_two():
    """MirroredStrategy tests need two devices; this must precede TF's device setup."""
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    except RuntimeError:
        pass  # devices already initialized by an earlier import; tests that need two will say so


_split_cpu_in_two()
