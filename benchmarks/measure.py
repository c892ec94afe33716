"""Timing and memory primitives used inside a worker process."""

import resource
import statistics
import time


def once_ms(fn) -> float:
    started = time.perf_counter()
    fn()
    return 1000 * (time.perf_counter() - started)


def median_ms(fn, samples: int, warmup: int = 3) -> float:
    """Median latency of single calls: robust to the noise of a shared machine."""
    for _ in range(warmup):
        fn()
    return statistics.median(once_ms(fn) for _ in range(samples))


def max_rss_mb() -> float:
    """High-water resident set size of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
