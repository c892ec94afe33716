"""The TF1 world is TF 1.x, not the shim run a second time.

Why its verdict is independent of tf1kit:
- its variables come from TensorFlow's own graph variable store (the layer's
  undecorated forward pass in a tf.compat.v1.Graph: no tf1kit store, no
  decorator), and it trains with a TF1 optimizer in a Session;
- `tf.compat.v1.layers`, `tf.compat.v1.nn.rnn_cell` and TF-Slim's layers are
  TensorFlow's own TF1 code (kept in tf-keras, told to behave as under TF 1.x),
  not tf1kit's;
- it runs as a graph, so behaviour that only eager code has shows up.
The shared pieces are TensorFlow's initializers and the determinism tool that
hands out their seeds. tests/README.md lists mutations of tf1kit's own layers
that these verify tests catch, which a ground truth built on them could not.
"""

import sys

import keras
import numpy as np
import tensorflow as tf

import tf1kit
from tf1kit.store import TF1Variable
from tf1kit.verify import stages

tf1kit.install()
v1 = tf.compat.v1
X = np.random.RandomState(1).normal(size=(5, 3)).astype("float32")


def test_tf1_world_builds_with_tensorflows_own_tf1_layers_and_variables():
    seen = []

    class Probe(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x, training=False):
            scale = v1.get_variable("scale", [], initializer=v1.ones_initializer())
            seen.append((tf.compat.v1.executing_eagerly_outside_functions(),
                         v1.layers.dense.__module__, type(scale)))
            return v1.layers.dense(x * scale, 2)

    report = tf1kit.verify(Probe(), X)
    assert report.ok, str(report)
    in_graph = [entry for entry in seen if not entry[0]]
    eager = [entry for entry in seen if entry[0]]
    assert in_graph and eager
    assert {module for _, module, _ in in_graph} == {"tf_keras.src.legacy_tf_layers.core"}
    assert not any(issubclass(kind, TF1Variable) for _, _, kind in in_graph)
    assert {module for _, module, _ in eager} == {"tf1kit.layers.dense"}
    assert all(issubclass(kind, TF1Variable) for _, _, kind in eager)
    # Afterwards tf.compat.v1.layers is tf1kit's again.
    assert v1.layers is tf1kit.layers


class AssignedBatchNorm(keras.layers.Layer):
    """Batch norm that updates its statistics with `.assign` in the forward
    pass, as eager code may (benchmarks/networks/tf1_resnet.py does). In a TF1
    graph nothing runs that op: TF 1.x never updated the statistics."""

    @tf1kit.track_tf1_style_variables
    def call(self, x, training=False):
        with v1.variable_scope("bn"):
            mean = v1.get_variable("moving_mean", [3], initializer=v1.zeros_initializer(),
                                   trainable=False)
            if training:
                mean.assign(0.9 * mean + 0.1 * tf.reduce_mean(x, axis=0))
            return x - mean


def test_an_update_tf1_never_ran_is_caught():
    report = tf1kit.verify(AssignedBatchNorm(), X, steps=1)
    assert not report.ok
    # Eagerly the assignment happens, and the output already reads the new mean.
    assert report.first_divergence == {"output": stages.FORWARD_TRAIN,
                                       "bn/moving_mean": stages.MOVING_STATS,
                                       "loss": stages.step(1)}
    [row] = [r for r in report.failures
             if r["stage"] == stages.MOVING_STATS and r["world"] == "shim_eager"]
    np.testing.assert_allclose(row["max_abs_diff"], np.abs(0.1 * X.mean(axis=0)).max(),
                               rtol=1e-3)
    assert any("bn/moving_mean with ops nothing runs" in note for note in report.notes)


def test_eager_only_behaviour_is_caught_in_the_eager_world_only():
    class EagerOnly(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x, training=False):
            out = v1.layers.dense(x, 2)
            return out * 1.01 if tf.executing_eagerly() else out

    report = tf1kit.verify(EagerOnly(), X, steps=1)
    assert report.divergences[0] == {"name": "output", "stage": stages.FORWARD_EVAL,
                                     "worlds": ["shim_eager"]}
    assert not [row for row in report.failures if row["world"] != "shim_eager"]


def test_without_tf_keras_the_tf1_world_says_whose_layers_it_ran(monkeypatch):
    monkeypatch.setitem(sys.modules, "tf_keras.api._v1.keras.__internal__.legacy.layers", None)

    class Dense(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x, training=False):
            return v1.layers.dense(x, 2)

    report = tf1kit.verify(Dense(), X, steps=1)
    assert report.ok, str(report)
    assert any("tf1kit's own layers in graph mode (tf-keras is not installed)" in note
               for note in report.notes)


def test_tf1_world_runs_tensorflows_own_rnn_cells():
    seen = []

    class Recurrent(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x, training=False):
            cell = v1.nn.rnn_cell.LSTMCell(4)
            seen.append((tf.compat.v1.executing_eagerly_outside_functions(),
                         type(cell).__module__))
            outputs, _ = v1.nn.dynamic_rnn(cell, x, dtype=tf.float32)
            return outputs[:, -1]

    sequences = np.random.RandomState(4).normal(size=(3, 5, 2)).astype("float32")
    report = tf1kit.verify(Recurrent(), sequences, steps=2)
    assert report.ok, str(report)
    assert {"rnn/lstm_cell/kernel", "rnn/lstm_cell/bias"} <= {
        row["name"] for row in report.rows}
    assert {module for eager, module in seen if not eager} == {
        "tf_keras.src.layers.rnn.legacy_cells"}
    assert {module for eager, module in seen if eager} == {"tf1kit.rnn.lstm"}


# Four branches read one tensor, as in an inception block. Their gradients
# reach it shallowest branch first (0, 3, 1, 2); Grappler's arithmetic
# optimizer sorts them by name (0, 1, 2, 3). They cancel, so in float32 the
# sum is 0 in the first order and 1 in the second.
BRANCH_WEIGHTS = (1e8, 1.0, -1e8, 1.0)
BRANCH_DEPTHS = (0, 2, 2, 1)


def _four_branches(y):
    outputs = []
    for index, (weight, depth) in enumerate(zip(BRANCH_WEIGHTS, BRANCH_DEPTHS)):
        with tf.name_scope(f"Branch_{index}"):
            h = y
            for _ in range(depth):
                h = tf.nn.relu(h)
            outputs.append(h * weight)
    return tf.concat(outputs, 0)


class FourBranches(keras.layers.Layer):
    @tf1kit.track_tf1_style_variables
    def call(self, t, training=False):
        scale = v1.get_variable("scale", [1], initializer=v1.ones_initializer())
        return _four_branches(scale * t)


def _gradients_without_verify():
    """The gradient eagerly, in a plain TF1 Session and in a plain tf.function."""
    def taped(scale):
        with tf.GradientTape() as tape:
            total = tf.reduce_sum(_four_branches(scale))
        return tape.gradient(total, scale)

    scale = tf.Variable(np.ones([1], np.float32))
    eager, function = taped(scale), tf.function(taped)(scale)
    graph = tf.Graph()
    with graph.as_default():
        graph_scale = v1.get_variable("scale", initializer=np.ones([1], np.float32))
        [gradient] = tf.gradients(tf.reduce_sum(_four_branches(graph_scale)), [graph_scale])
        with v1.Session() as session:
            session.run(v1.global_variables_initializer())
            session_value = session.run(gradient)
    return float(eager[0]), float(session_value[0]), float(function[0])


def test_graph_worlds_sum_gradients_in_the_order_the_code_builds_them():
    first, second, third, fourth = (np.float32(w) for w in BRANCH_WEIGHTS)
    as_written = ((first + fourth) + second) + third
    sorted_by_name = ((first + second) + third) + fourth
    assert (as_written, sorted_by_name) == (0, 1)
    # Eager code sums as written; Grappler, in a Session as in a tf.function, sorts.
    assert _gradients_without_verify() == (as_written, sorted_by_name, sorted_by_name)
    # verify's graph worlds (its TF1 Session, the shim's tf.function) run
    # without that optimizer, so all four worlds agree to the last bit.
    report = tf1kit.verify(FourBranches(), np.ones([1], np.float32), steps=1,
                           loss=tf.reduce_sum)
    assert report.ok, str(report)
    gradients = [row for row in report.rows if row["stage"] == stages.GRADIENTS]
    assert {row["world"] for row in gradients} == {"shim_eager", "shim_function"}
    assert all(row["max_abs_diff"] == 0 for row in gradients)
    assert report.settings["graph_rewrites"].startswith("arithmetic optimizer off")
    # Only verify's own functions: the thread's function options come back.
    assert _gradients_without_verify()[2] == sorted_by_name
