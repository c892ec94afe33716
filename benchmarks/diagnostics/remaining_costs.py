"""What an eager call still pays over the raw-ops floor, item by item.

    python -m benchmarks.diagnostics.remaining_costs [--out FILE]

Times, in one process and in wall-clock microseconds (median of 7 rounds),
the pieces that profiles of the benchmark networks leave after tf1kit's fast
paths, each next to what the floor pays for the same thing:

* Keras 3's `Layer.__call__` around a decorated owner (the floor is a
  `tf.Module`, whose call costs nothing);
* TensorFlow ops handed a `TF1Variable` by user code, against the same op on
  the backing `tf.Variable`: TensorFlow's C fast path type-checks for its own
  resource variable class, so anything else takes the Python fallback;
* one `with tf.compat.v1.variable_scope(name):` entry and exit;
* the TF1 initializer constructors user code calls in every `get_variable`,
  with TensorFlow's deprecation checks on (an owner's first call) and off
  (its later eager calls, decorator/deprecation_checks.py).
"""

import argparse
import statistics
import time


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="", help="also write the table to this file")
    args = parser.parse_args(argv)
    table = measure()
    print(table)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(table + "\n")


def measure() -> str:
    import keras
    import numpy as np
    import tensorflow as tf
    from tensorflow.python.util import deprecation

    import tf1kit

    v1 = tf.compat.v1

    class Identity(keras.layers.Layer):
        def call(self, x, training=False):
            return x

    class DecoratedIdentity(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x, training=False):
            return x

    class ModuleIdentity(tf.Module):
        @tf1kit.track_tf1_style_variables
        def __call__(self, x, training=False):
            return x

    class Holder(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x):
            self.kernel = v1.get_variable("kernel", [3, 3, 16, 16])
            self.scale = v1.get_variable("scale", [16])
            return x

    images = tf.ones([1, 32, 32, 16])
    rows = tf.ones([1, 64])
    array = np.ones([1, 64], np.float32)
    identity, decorated, module, holder = Identity(), DecoratedIdentity(), ModuleIdentity(), Holder()
    for layer in (identity, decorated, module):
        layer(rows)
    holder(images)
    kernel, scale = holder.kernel, holder.scale
    kernel_backing, scale_backing = kernel.value, scale.value

    def scope_entry():
        with v1.variable_scope("s"):
            pass

    def quiet(function):
        def run():
            deprecation._PRINT_DEPRECATION_WARNINGS = False
            try:
                function()
            finally:
                deprecation._PRINT_DEPRECATION_WARNINGS = True
        return run

    pairs = [
        ("Keras Layer.__call__, tensor input", lambda: identity(rows, training=False),
         "tf.Module call", lambda: None),
        ("Keras Layer.__call__, numpy input", lambda: identity(array, training=False),
         "", None),
        ("decorated Keras layer, tensor input", lambda: decorated(rows, training=False),
         "", None),
        ("decorated tf.Module", lambda: module(rows, training=False), "", None),
        ("tf.nn.conv2d(x, TF1Variable) 32x32x16", lambda: tf.nn.conv2d(images, kernel, 1, "SAME"),
         "same on its tf.Variable", lambda: tf.nn.conv2d(images, kernel_backing, 1, "SAME")),
        ("tensor * TF1Variable", lambda: images * scale,
         "same on its tf.Variable", lambda: images * scale_backing),
        ("tf.nn.batch_normalization, 4 TF1Variables",
         lambda: tf.nn.batch_normalization(images, scale, scale, scale, scale, 1e-3),
         "same on tf.Variables",
         lambda: tf.nn.batch_normalization(images, scale_backing, scale_backing, scale_backing,
                                           scale_backing, 1e-3)),
        ("variable_scope entry + exit", scope_entry, "", None),
        ("glorot_uniform_initializer(), checks on", v1.glorot_uniform_initializer,
         "checks off (later eager calls)", quiet(v1.glorot_uniform_initializer)),
    ]
    timings = {}
    for _ in range(7):
        for name, function, other_name, other in pairs:
            timings.setdefault(name, []).append(_time(function))
            if other is not None:
                timings.setdefault((name, other_name), []).append(_time(other))
    lines = ["| item | µs | floor / comparison | µs |", "|---|---|---|---|"]
    for name, _, other_name, other in pairs:
        mine = statistics.median(timings[name])
        if other is None:
            lines.append(f"| {name} | {mine:.1f} | | |")
        else:
            theirs = statistics.median(timings[(name, other_name)])
            lines.append(f"| {name} | {mine:.1f} | {other_name} | {theirs:.1f} |")
    return "\n".join(lines)


def _time(function, calls=500) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - start) / calls * 1e6


if __name__ == "__main__":
    main()
