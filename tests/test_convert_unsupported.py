"""What `to_keras` cannot convert lands in `.unsupported`, with the user's line.

Never a silent approximation: no model is built, and the generated source
raises NotImplementedError at the spot, naming the file and line.
"""

import numpy as np
import pytest
import tensorflow as tf
import keras

import tf1kit
from convert_cases import line_carrying

tf1kit.install()
v1 = tf.compat.v1


def line_of(marker: str) -> str:
    return line_carrying(marker, __file__)


class UntrackedVariable(keras.layers.Layer):
    """Lesson 5's MixedState: a tf.Variable Keras 3 does not track."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.raw = tf.Variable(1.0, name="raw")

    @tf1kit.track_tf1_style_variables
    def call(self, x):
        with v1.variable_scope("mixed"):
            w = v1.get_variable("w", shape=[x.shape[-1], 2], initializer=v1.ones_initializer())
        return tf.matmul(x, w) * self.raw  # marker: untracked


class RandomGlue(keras.layers.Layer):
    @tf1kit.track_tf1_style_variables
    def call(self, x):
        h = v1.layers.dense(x, 3)
        return h + tf.random.normal(tf.shape(h))  # marker: random


class HandWrittenUpdate(keras.layers.Layer):
    @tf1kit.track_tf1_style_variables
    def call(self, x):
        count = v1.get_variable("count", shape=[], trainable=False,
                                initializer=v1.zeros_initializer())
        count.assign_add(1.0)  # marker: assign
        return v1.layers.dense(x, 2)


class NoTranslation(keras.layers.Layer):
    @tf1kit.track_tf1_style_variables
    def call(self, x):
        return tf.math.cumsum(v1.layers.dense(x, 2), axis=1)  # marker: cumsum


class BranchOnTraining(keras.layers.Layer):
    @tf1kit.track_tf1_style_variables
    def call(self, x, training=False):
        h = v1.layers.dense(x, 2)
        if training:
            h = h * 2.0  # marker: branch
        return h


class Renorm(keras.layers.Layer):
    @tf1kit.track_tf1_style_variables
    def call(self, x, training=False):
        return v1.layers.batch_normalization(x, renorm=True, training=training)  # marker: renorm


CASES = {
    "untracked": (UntrackedVariable, "does not track"),
    "random": (RandomGlue, "random values"),
    "assign": (HandWrittenUpdate, "side effect"),
    "cumsum": (NoTranslation, "no translation for the TensorFlow op Cumsum"),
    "branch": (BranchOnTraining, "differ between training=True and training=False"),
    "renorm": (Renorm, "side effect"),
}


@pytest.mark.parametrize("marker", list(CASES))
def test_unsupported_construct_is_reported_at_the_users_line(marker):
    layer_class, reason = CASES[marker]
    layer = layer_class()
    x = tf.ones([2, 3])
    layer(x)
    before = [v.numpy().copy() for v in layer.weights]
    result = tf1kit.to_keras(layer, x)
    assert not result.complete and result.model is None and result.weight_map == {}
    found = [u for u in result.unsupported if reason in u.reason]
    assert found, result.summary()
    assert found[0].location == line_of(f"# marker: {marker}"), str(found[0])
    assert line_of(f"# marker: {marker}") in str(found[0])
    assert "raise NotImplementedError" in result.source or marker == "branch"
    with pytest.raises(ValueError, match="incomplete"):
        result.save_weights("unused.weights.h5")
    assert result.report is None
    # The user's layer is left as it was.
    for value, variable in zip(before, layer.weights):
        np.testing.assert_array_equal(variable.numpy(), value)


def test_a_layer_that_cannot_be_converted_is_read_op_by_op_and_noted():
    # renorm has no Keras 3 equivalent: the layer's own ops are read instead,
    # which reaches its moving-average updates (reported above) - and a note says why.
    layer = Renorm()
    layer(tf.ones([2, 3]))
    result = tf1kit.to_keras(layer, tf.ones([2, 3]))
    assert any("written op by op: batch renormalization" in note for note in result.notes)


def test_unsupported_op_sits_in_the_source_where_it_ran():
    layer = NoTranslation()
    layer(tf.ones([2, 3]))
    source = tf1kit.to_keras(layer, tf.ones([2, 3])).source
    lines = source.splitlines()
    raising = next(i for i, line in enumerate(lines) if "raise NotImplementedError" in line)
    statement = " ".join(lines[raising:raising + 2])
    assert "Cumsum" in statement and line_of("# marker: cumsum") in statement
    assert "self.dense(" in "\n".join(lines[:raising])
