"""Benchmarks: tf1kit vs the official shim (tf_keras) vs native Keras 3.

Run with `python -m benchmarks.run` (add `--quick` for a smoke-sized run).
Benchmarks are not tests: they measure and report, they never assert timings.
"""
