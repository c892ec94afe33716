"""Pure get_variable reuse cost, per variable, in one world.

    python -m benchmarks.diagnostics.lookup_cost --world tf1kit

A decorated layer asks for N existing variables and does no math, so the
eager call time is the shim's lookup path alone. Prints one JSON line: milliseconds per call and microseconds per variable.
"""

import argparse
import json
import statistics
import time

from benchmarks import worlds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--world", default="tf1kit", choices=worlds.WORLDS[:2])
    parser.add_argument("--counts", nargs="+", type=int, default=[10, 100, 1000])
    parser.add_argument("--samples", type=int, default=50)
    args = parser.parse_args(argv)
    worlds.enter(args.world)
    print(json.dumps({"world": args.world,
                      **measure(args.counts, args.samples)}))


def measure(counts, samples) -> dict:
    import tensorflow as tf

    v1 = tf.compat.v1

    class Lookups(tf.keras.layers.Layer):
        def __init__(self, count, **kwargs):
            super().__init__(**kwargs)
            self.count = count

        @v1.keras.utils.track_tf1_style_variables
        def call(self, inputs):
            with v1.variable_scope("many"):
                for i in range(self.count):
                    v1.get_variable(f"v{i}", [4], initializer=v1.zeros_initializer())
            return inputs

    inputs = tf.zeros([1, 4])
    result = {}
    for count in counts:
        layer = Lookups(count)
        for _ in range(3):
            layer(inputs)
        times = []
        for _ in range(samples):
            started = time.perf_counter()
            layer(inputs)
            times.append(time.perf_counter() - started)
        ms = 1000 * statistics.median(times)
        result[f"N={count}"] = {"ms": round(ms, 3), "us_per_variable": round(1000 * ms / count, 2)}
    return result


if __name__ == "__main__":
    main()
