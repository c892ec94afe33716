"""What `tf1kit.verify` costs next to checking the three worlds by hand (target: under 5x).

On the benchmark ResNet (networks/tf1_resnet.py and its Keras 3 rewrite
networks/keras3_resnet.py), with 3 training steps, this times:

- by hand: the page of code the migration guide asks for at each step -- the
  TF1 code in a Graph + Session trained with a TF1 optimizer, the shim eagerly
  and the native rewrite eagerly (its weights copied in by hand), each under
  DeterministicRandomTestTool, with a forward pass (training False and True)
  and 3 optimizer steps each, and numpy comparisons of outputs and variables;
- `tf1kit.verify` on the same layer, batch and steps (which also runs the shim
  in tf.function and compares regularization, gradients and moving statistics).

Both run in this one process, alternating, after one warm-up each; the report
gives medians and their ratio. Results go to benchmarks/results/verify_cost.json.

    .venv/bin/python -m benchmarks.verify_cost [--repeats 5] [--quick] [--batch 16]
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

RESULTS = pathlib.Path(__file__).resolve().parent / "results" / "verify_cost.json"
STEPS = 3
LEARNING_RATE = 0.01


def by_hand(tf1_class, native_class, sizes, x):
    """The three worlds written out, as a user checks a migration step without verify."""
    import keras
    import numpy as np
    import tensorflow as tf

    import tf1kit

    v1 = tf.compat.v1

    def loss_of(outputs):
        return tf.reduce_mean(tf.square(outputs))

    # 1. TF1: the forward pass in a graph, a TF1 optimizer, a Session.
    graph = tf.Graph()
    with graph.as_default(), tf1kit.DeterministicRandomTestTool(mode="num_random_ops").scope():
        layer = tf1_class(sizes)
        inputs = v1.placeholder(tf.float32, x.shape)
        forward = type(layer).call.__wrapped__
        outputs_eval = forward(layer, inputs, training=False)
        variables = list(v1.global_variables())
        with v1.variable_scope(v1.get_variable_scope(), reuse=True):
            outputs_train = forward(layer, inputs, training=True)
        loss = loss_of(outputs_train)
        train_op = v1.train.GradientDescentOptimizer(LEARNING_RATE).minimize(loss)
        init = v1.global_variables_initializer()
    with v1.Session(graph=graph) as session:
        session.run(init)
        tf1_start = dict(zip([v.op.name for v in variables], session.run(variables)))
        tf1_eval = session.run(outputs_eval, {inputs: x})
        tf1_train = session.run(outputs_train, {inputs: x})
        tf1_steps = []
        for _ in range(STEPS):
            session.run(train_op, {inputs: x})
            tf1_steps.append(dict(zip(tf1_start, session.run(variables))))

    def eager_world(layer, copy_in):
        with tf1kit.DeterministicRandomTestTool(mode="num_random_ops").scope():
            layer(x, training=False)
            copy_in(layer)
            results = {"eval": layer(x, training=False).numpy(),
                       "train": layer(x, training=True).numpy(), "steps": []}
            copy_in(layer)
            optimizer = keras.optimizers.SGD(LEARNING_RATE)
            for _ in range(STEPS):
                with tf.GradientTape() as tape:
                    loss = loss_of(layer(x, training=True))
                gradients = tape.gradient(loss, layer.trainable_weights)
                optimizer.apply_gradients(zip(gradients, layer.trainable_weights))
                results["steps"].append([w.numpy() for w in layer.weights])
        results["weights"] = layer.weights
        return results

    # 2. The shim, eagerly, from the TF1 values (same names).
    def copy_by_tf1_name(layer):
        for weight in layer.weights:
            weight.assign(tf1_start[weight.tf1_name])
            tf1_names[id(weight)] = weight.tf1_name

    tf1_names = {}

    shim = eager_world(tf1_class(sizes), copy_by_tf1_name)

    # 3. The native rewrite: same creation order, so the i-th weight of each
    # kind and shape is the i-th TF1 variable of that kind and shape.
    def copy_in_order(layer):
        pools = {}
        for name, value in tf1_start.items():
            pools.setdefault((name.rsplit("/", 1)[-1], value.shape), []).append((name, value))
        taken = {}
        for weight in layer.weights:
            key = (weight.path.rsplit("/", 1)[-1], tuple(weight.shape))
            index = taken.get(key, 0)
            name, value = pools[key][index]
            weight.assign(value)
            tf1_names[id(weight)] = name
            taken[key] = index + 1

    native = eager_world(native_class(sizes), copy_in_order)

    differences = {}
    for label, world in (("shim", shim), ("native", native)):
        differences[f"{label}_outputs"] = max(
            float(np.abs(world["eval"] - tf1_eval).max()),
            float(np.abs(world["train"] - tf1_train).max()))
        differences[f"{label}_variables"] = max(
            float(np.abs(value - tf1_steps[k][tf1_names[id(weight)]]).max())
            for k in range(STEPS) for weight, value in zip(world["weights"], world["steps"][k]))
    return differences


def with_verify(tf1_class, native_class, sizes, x):
    import tf1kit

    report = tf1kit.verify(lambda: tf1_class(sizes), x, native=lambda: native_class(sizes),
                           steps=STEPS)
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, 2 repeats")
    args = parser.parse_args()
    repeats = 2 if args.quick else args.repeats

    import numpy as np
    import tensorflow as tf

    import tf1kit

    tf1kit.install()  # before the TF1 network's module is imported: it decorates with it
    from benchmarks.networks.keras3_resnet import Keras3ResNet
    from benchmarks.networks.sizes import FULL, QUICK
    from benchmarks.networks.tf1_resnet import TF1ResNet

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    sizes = QUICK if args.quick else FULL
    x = np.random.RandomState(0).normal(
        size=(args.batch, sizes.image, sizes.image, 3)).astype("float32")

    def timed(function):
        start = time.perf_counter()
        result = function(TF1ResNet, Keras3ResNet, sizes, x)
        return time.perf_counter() - start, result

    _, differences = timed(by_hand)  # warm-up: imports, first traces
    _, report = timed(with_verify)
    hand_times, verify_times, world_times = [], [], []
    for repeat in range(repeats):
        order = [(by_hand, hand_times), (with_verify, verify_times)]
        for function, times in (order if repeat % 2 == 0 else order[::-1]):
            seconds, result = timed(function)
            times.append(seconds)
            if function is with_verify:
                report = result
                world_times.append(result.timings)

    hand, verified = statistics.median(hand_times), statistics.median(verify_times)
    result = {
        "what": "tf1kit.verify vs checking TF1 graph, shim and native by hand, "
                f"benchmark ResNet, {STEPS} steps",
        "sizes": "quick" if args.quick else "full",
        "batch": args.batch,
        "variables": report.worlds["tf1_graph"]["variables"],
        "median_seconds_by_hand": round(hand, 3),
        "median_seconds_verify": round(verified, 3),
        "ratio": round(verified / hand, 2),
        "target_ratio": 5.0,
        "verify_seconds_per_world": {
            world: round(statistics.median(t[world] for t in world_times), 3)
            for world in world_times[0]},
        "runs_by_hand": [round(t, 3) for t in hand_times],
        "runs_verify": [round(t, 3) for t in verify_times],
        "by_hand_max_differences": {k: float(f"{v:.3g}") for k, v in differences.items()},
        "verify_summary": report.summary(),
        "verify_failures_by_stage": {
            stage: sum(1 for row in report.failures if row["stage"] == stage)
            for stage in report.stages if any(row["stage"] == stage for row in report.failures)},
        "verify_failing_names": sorted({row["name"] for row in report.failures}),
        "verify_notes": report.notes,
        "machine": f"{platform.machine()} {os.cpu_count()} cpus, {platform.python_version()}, "
                   "TensorFlow threads 1",
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
