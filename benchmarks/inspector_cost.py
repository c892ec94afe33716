"""What an open inspector costs eager calls, and what `%%tf1layer` costs over a
plain decorated layer (issue 12's targets: both at most 1.1x).

    .venv/bin/python -m benchmarks.inspector_cost            # about 4 minutes on 2 cores
    .venv/bin/python -m benchmarks.inspector_cost --quick    # small sizes, about 1 minute

Everything runs through a real in-process IPython shell, so the refreshes the
inspector puts off until the end of a cell are paid inside the measured cell.

- `params_8m`: a decorated layer with an 8.4M-parameter kernel (page size 5, as
  in the issue), and `batch_norm_40`: 40 `tf.compat.v1.layers.batch_normalization`
  layers called with training=True. For each inspector tab, a cell of eager
  calls is timed with the tab open and, alternately, on an identical layer
  nobody watches. `call ratio` = median time per call with / without, in
  wall-clock time and in this process's CPU time (which other load on a
  shared machine disturbs less). TensorFlow runs on one thread, as in
  benchmarks/worlds.py.
  `one-call cells` times cells of a single call, where the refresh owed at the
  end of the cell is not amortized (shown, not a target). Ratios are medians
  over pairs measured back to back.
- `cell_1000`: one call of a 1,000-variable layer, as a `%%tf1layer` cell and as
  the same code in a plain decorated layer; the official shim (tf_keras) and
  native Keras 3 run the same network in their own processes for reference.

Results: benchmarks/results/inspector_cost.json and a printed table.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import time

from benchmarks.networks.sizes import QUICK

RESULTS = pathlib.Path(__file__).resolve().parent / "results" / "inspector_cost.json"
TABS = ("Variables", "Regularization", "Batch norm", "Calls")

BIG = '''
class Big(keras.layers.Layer):
    @tf1kit.track_tf1_style_variables
    def call(self, x):
        kernel = tf.compat.v1.get_variable("dense/kernel", [{width}, {units}],
                                           regularizer=lambda v: 1e-6 * tf.reduce_sum(v * v))
        bias = tf.compat.v1.get_variable("dense/bias", [{units}],
                                         initializer=tf.compat.v1.zeros_initializer())
        return tf.matmul(x, kernel) + bias
'''

BATCH_NORM = '''
class Normalized(keras.layers.Layer):
    @tf1kit.track_tf1_style_variables
    def call(self, x, training=None):
        h = x
        for i in range({layers}):
            with tf.compat.v1.variable_scope(f"block{{i}}"):
                w = tf.compat.v1.get_variable("w", [{width}, {width}])
                h = tf.compat.v1.layers.batch_normalization(tf.matmul(h, w), training=training)
        return h
'''

MANY = '''with tf.compat.v1.variable_scope("many"):
    values = [tf.compat.v1.get_variable(f"v{{i}}", [4], initializer=tf.compat.v1.zeros_initializer())
              for i in range({count})]
inputs + tf.add_n(values)
'''


def start_shell(threads=1):
    import tensorflow as tf

    if threads:  # as benchmarks/worlds.py: far less sensitive to other load
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    from IPython.testing.globalipapp import start_ipython

    shell = start_ipython()
    if shell is None:
        from IPython import get_ipython

        shell = get_ipython()
    shell.run_line_magic("load_ext", "tf1kit")
    ran = shell.run_cell("import numpy as np, keras, tensorflow as tf, tf1kit, tf1kit.notebook")
    ran.raise_error()
    return shell


def timed_cell(shell, source) -> tuple:
    """(wall-clock seconds, CPU seconds of this process) of one cell."""
    started, cpu_started = time.perf_counter(), time.process_time()
    result = shell.run_cell(source)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    result.raise_error()
    return elapsed, cpu


def inspector_scenario(shell, name, class_source, call, calls_per_cell, repeats, page_size):
    """Cells of `calls_per_cell` calls on a watched and an unwatched twin, per tab."""
    shell.run_cell(class_source).raise_error()
    shell.run_cell(f"plain, watched = {call[0]}(), {call[0]}()\n"
                   f"plain({call[1]}); watched({call[1]});").raise_error()
    shell.run_cell(f"view = tf1kit.notebook.inspect(watched, page_size={page_size})").raise_error()
    view = shell.user_ns["view"]
    loop = "for _ in range({n}):\n    {layer}({args})"
    result = {"variables": len(view.snapshot.rows),
              "parameters": view.snapshot.parameter_count, "tabs": {}}
    for tab_index, tab in enumerate(TABS):
        view.tabs.selected_index = tab_index
        timed_cell(shell, loop.format(n=2, layer="watched", args=call[1]))  # warm the tab
        refreshes_before = view.refresh_count
        with_view, without = [], []
        for repeat in range(repeats):
            order = [("watched", with_view), ("plain", without)]
            for layer, times in (order if repeat % 2 else order[::-1]):
                wall, cpu = timed_cell(shell, loop.format(
                    n=calls_per_cell, layer=layer, args=call[1]))
                times.append((wall / calls_per_cell, cpu / calls_per_cell))
        refreshes = view.refresh_count - refreshes_before
        single_with, single_without = [], []
        for _ in range(repeats):
            single_with.append(timed_cell(shell, f"watched({call[1]})")[0])
            single_without.append(timed_cell(shell, f"plain({call[1]})")[0])
        refresh_costs = []
        for _ in range(5):
            started = time.perf_counter()
            view.refresh("benchmark")
            refresh_costs.append(time.perf_counter() - started)
        # Each pair ran back to back: the median of the pairs' ratios resists the
        # drift of a shared machine better than a ratio of medians.
        ratio = statistics.median(w[0] / o[0] for w, o in zip(with_view, without))
        cpu_ratio = statistics.median(w[1] / o[1] for w, o in zip(with_view, without))
        result["tabs"][tab] = {
            "call_ms_without": round(1000 * statistics.median(t[0] for t in without), 3),
            "call_ms_with": round(1000 * statistics.median(t[0] for t in with_view), 3),
            "call_ratio": round(ratio, 3),
            "call_cpu_ratio": round(cpu_ratio, 3),
            "refreshes_during_timed_cells": refreshes,
            "refresh_ms": round(1000 * statistics.median(refresh_costs), 2),
            "one_call_cell_ratio": round(statistics.median(
                w / o for w, o in zip(single_with, single_without)), 3),
        }
    view.close()
    shell.run_cell("del plain, watched, view")
    return result


def cell_scenario(shell, count, repeats):
    shell.run_cell("%%tf1layer ManyCell\n" + MANY.format(count=count)).raise_error()
    shell.run_cell(f'''
class ManyPlain(keras.layers.Layer):
    @tf1kit.track_tf1_style_variables
    def call(self, inputs):
{_indent(MANY.format(count=count), 8, last_returns=True)}
many_cell, many_plain = ManyCell(), ManyPlain()
x4 = tf.zeros([1, 4])
many_cell(x4); many_plain(x4);
''').raise_error()
    cell_layer, plain_layer, inputs = (shell.user_ns[k] for k in ("many_cell", "many_plain", "x4"))
    cell_times, plain_times = [], []
    for repeat in range(repeats * 4):
        order = [(cell_layer, cell_times), (plain_layer, plain_times)]
        for layer, times in (order if repeat % 2 else order[::-1]):
            started = time.perf_counter()
            layer(inputs)
            times.append(time.perf_counter() - started)
    return {
        "variables": count,
        "tf1layer_call_ms": round(1000 * statistics.median(cell_times), 2),
        "plain_decorated_call_ms": round(1000 * statistics.median(plain_times), 2),
        "ratio": round(statistics.median(c / p for c, p in zip(cell_times, plain_times)), 3),
    }


def _indent(code, spaces, last_returns):
    lines = code.rstrip("\n").splitlines()
    if last_returns:
        lines[-1] = "return " + lines[-1]
    return "\n".join(" " * spaces + line for line in lines)


def reference_worlds(count, samples) -> dict:
    """The same 1,000-variable network in the official shim and native Keras 3."""
    found = {}
    for world in ("official", "native"):
        task = {"world": world, "jobs": ["scaling"], "counts": [count], "samples": samples,
                "sizes": dataclasses.asdict(QUICK)}  # unused by the scaling job
        done = subprocess.run([sys.executable, "-m", "benchmarks.worker", json.dumps(task)],
                              capture_output=True, text=True, timeout=900,
                              cwd=pathlib.Path(__file__).resolve().parents[1])
        try:
            found[world] = json.loads(done.stdout.strip().splitlines()[-1])["scaling"][
                "eager_call_ms"][str(count)]
        except (IndexError, KeyError, ValueError):
            found[world] = f"failed: {done.stderr.strip()[-300:]}"
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="small sizes, 3 repeats")
    parser.add_argument("--no-reference", action="store_true",
                        help="skip the official-shim and native processes")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    repeats = 3 if args.quick else args.repeats
    width, units = (256, 512) if args.quick else (2048, 4096)  # 8.4M parameters when full
    shell = start_shell()
    results = {
        "what": "eager call time with an open inspector vs without; %%tf1layer vs a plain "
                "decorated layer (targets: <= 1.1x)",
        "params_8m": inspector_scenario(
            shell, "params_8m", BIG.format(width=width, units=units),
            ("Big", f"tf.ones([4, {width}])"), calls_per_cell=40 if args.quick else 100,
            repeats=repeats, page_size=5),
        "batch_norm_40": inspector_scenario(
            shell, "batch_norm_40", BATCH_NORM.format(layers=40, width=32 if args.quick else 64),
            ("Normalized", f"tf.ones([16, {32 if args.quick else 64}]), training=True"),
            calls_per_cell=5 if args.quick else 10, repeats=repeats, page_size=50),
        "cell_1000": cell_scenario(shell, 1000, repeats),
        "machine": f"{platform.machine()} {os.cpu_count()} cpus, Python "
                   f"{platform.python_version()}, load {os.getloadavg()[0]:.2f}",
    }
    if not args.no_reference:
        results["cell_1000"]["reference_call_ms"] = reference_worlds(1000, 20 if args.quick else 50)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print(f"\nwritten to {RESULTS}")


def table(results) -> str:
    lines = ["| scenario | tab | call ms without | with | call ratio (wall) | (CPU) | "
             "refresh ms | refreshes | one-call cells |", "|---|---|---|---|---|---|---|---|---|"]
    for scenario in ("params_8m", "batch_norm_40"):
        for tab, row in results[scenario]["tabs"].items():
            lines.append(f"| {scenario} | {tab} | {row['call_ms_without']} | {row['call_ms_with']} "
                         f"| {row['call_ratio']}x | {row['call_cpu_ratio']}x | {row['refresh_ms']} | "
                         f"{row['refreshes_during_timed_cells']} | {row['one_call_cell_ratio']}x |")
    cell = results["cell_1000"]
    lines.append("")
    lines.append(f"1,000 variables: %%tf1layer {cell['tf1layer_call_ms']} ms, plain decorated "
                 f"{cell['plain_decorated_call_ms']} ms: {cell['ratio']}x; reference "
                 f"{cell.get('reference_call_ms', 'skipped')}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
