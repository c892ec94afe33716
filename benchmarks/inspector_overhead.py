"""How much an attached inspector slows `model.fit` (target: under 5%).

Trains the same small TF1-style model (dense + batch norm through
tf.compat.v1.layers, in a %%tf1layer-equivalent cell layer) with and without an
inspector + InspectorCallback, alternating runs so machine noise hits both,
and writes the result to benchmarks/results/inspector_overhead.json. The CPU
is shared, so it also reports the fastest runs (least disturbed) and the
measured cost of one refresh times the refreshes per fit (a noise-free bound).

    .venv/bin/python benchmarks/inspector_overhead.py [--repeats 5] [--epochs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

RESULTS = pathlib.Path(__file__).resolve().parent / "results" / "inspector_overhead.json"

CELL = '''
h = tf.compat.v1.layers.dense(inputs, 64, activation=tf.nn.relu, name="fc1")
h = tf.compat.v1.layers.batch_normalization(h, training=training, name="bn1")
h = tf.compat.v1.layers.dense(h, 64, activation=tf.nn.relu, name="fc2")
h = tf.compat.v1.layers.batch_normalization(h, training=training, name="bn2")
tf.compat.v1.layers.dense(h, 1, name="out")
'''


def build_model(shell):
    shell.run_cell("%%tf1layer Net\n" + CELL)
    import keras

    model = keras.Sequential([keras.Input((32,)), shell.user_ns["Net"]()])
    model.compile(optimizer="sgd", loss="mse")
    return model


def timed_fit(model, x, y, epochs, callbacks):
    start = time.perf_counter()
    model.fit(x, y, epochs=epochs, batch_size=32, verbose=0, callbacks=callbacks)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=16384)
    args = parser.parse_args()

    from IPython.testing.globalipapp import start_ipython

    import tf1kit.notebook

    shell = start_ipython()
    tf1kit.notebook.load_ipython_extension(shell)
    shell.run_cell("import tensorflow as tf")
    rng = np.random.RandomState(0)
    x = rng.rand(args.samples, 32).astype("float32")
    y = x.sum(axis=1, keepdims=True)

    plain, inspected = build_model(shell), build_model(shell)
    inspector = tf1kit.notebook.inspect(inspected)
    callback = tf1kit.notebook.InspectorCallback()
    for model, callbacks in ((plain, []), (inspected, [callback])):
        timed_fit(model, x, y, 1, callbacks)  # trace and warm up outside the timing

    baseline, with_inspector = [], []
    for repeat in range(args.repeats):
        # Alternate which one goes first so drift in machine load cancels out.
        order = [(plain, [], baseline), (inspected, [callback], with_inspector)]
        for model, callbacks, times in (order if repeat % 2 == 0 else order[::-1]):
            refreshes_before = inspector.refresh_count
            times.append(timed_fit(model, x, y, args.epochs, callbacks))
    refreshes = inspector.refresh_count - refreshes_before

    refresh_costs = []
    for _ in range(10):
        start = time.perf_counter()
        inspector.refresh("benchmark")
        refresh_costs.append(time.perf_counter() - start)
    refresh_cost = statistics.median(refresh_costs)

    base, inspected_time = statistics.median(baseline), statistics.median(with_inspector)
    result = {
        "what": "model.fit wall time with vs without tf1kit inspector + InspectorCallback",
        "steps_per_fit": args.epochs * (args.samples // 32),
        "variables": len(inspector.snapshot.rows),
        "median_seconds_without": round(base, 4),
        "median_seconds_with": round(inspected_time, 4),
        "overhead_percent_median": round(100 * (inspected_time - base) / base, 2),
        "overhead_percent_fastest": round(
            100 * (min(with_inspector) - min(baseline)) / min(baseline), 2),
        "refreshes_in_last_fit": refreshes,
        "refresh_cost_ms": round(1000 * refresh_cost, 2),
        "overhead_percent_bound": round(100 * refreshes * refresh_cost / min(baseline), 2),
        "runs_without": [round(t, 4) for t in baseline],
        "runs_with": [round(t, 4) for t in with_inspector],
        "target_percent": 5.0,
        "machine": f"{platform.machine()} {os.cpu_count()} cpus, {platform.python_version()}",
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
