"""Keras 3 regularizers made inside a traced first call.

`keras.regularizers.L1/L2/L1L2` turn their factors into tensors when they
are made. TF1 code makes them inline (`kernel_regularizer=
tf.keras.regularizers.l2(1e-4)`), so when the owner's first call is traced
(`model.fit` on a fresh model, `tf.function(layer)(x)`) those factors belong
to a function graph that is gone once the trace ends. tf1kit computes
regularization losses when `losses` is read, so it must keep regularizers
whose factors live outside that graph: `losses` then equals what an owner
called eagerly first gives, eagerly, in a later tf.function, after fit and
evaluate. (TF 1.x and the official shim, whose tf_keras regularizers hold
Python floats, never had the problem.)
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tf1kit

v1 = tf.compat.v1


class Regularized(keras.layers.Layer):
    """Regularizers made in the call: a layer's, get_variable's, a plain
    callable's, and one Keras regularizer with a tensor factor made outside."""

    outside = keras.regularizers.L1(0.5)  # made eagerly, at import

    @tf1kit.track_tf1_style_variables
    def call(self, x):
        tf1kit.install()
        h = v1.layers.dense(x, 4, kernel_regularizer=keras.regularizers.l1(0.1),
                            bias_regularizer=keras.regularizers.L2(0.02), name="dense")
        w = v1.get_variable("w", [4, 2], initializer=v1.constant_initializer(0.3),
                            regularizer=keras.regularizers.L1L2(l1=0.01, l2=0.03))
        u = v1.get_variable("u", [2], initializer=v1.constant_initializer(-2.0),
                            regularizer=lambda v: 0.25 * tf.reduce_sum(v))
        o = v1.get_variable("o", [2, 3], initializer=v1.constant_initializer(
                                [[1.0, 2.0, 0.5], [0.3, -1.0, 2.0]]),
                            regularizer=keras.regularizers.OrthogonalRegularizer(0.04))
        s = v1.get_variable("s", [3], initializer=v1.constant_initializer(-1.5),
                            regularizer=self.outside)
        return tf.matmul(tf.matmul(h, w) + u, o) * s


def expected_losses(layer):
    """Each regularizer's formula in numpy, in creation order."""
    weights = {v.name.split("/")[-1].split(":")[0]: v.numpy().astype(np.float64)
               for v in layer.weights}
    kernel, bias, w, u, o, s = (weights[k] for k in ("kernel", "bias", "w", "u", "o", "s"))
    rows = o / np.linalg.norm(o, axis=1, keepdims=True)  # mode="rows"
    gram = rows @ rows.T
    orthogonal = 0.04 * 0.5 * np.sum(np.abs(gram * (1 - np.eye(2)))) / (2 * 1 / 2)
    return sorted([0.1 * np.abs(kernel).sum(), 0.02 * (bias ** 2).sum(),
                   0.01 * np.abs(w).sum() + 0.03 * (w ** 2).sum(), 0.25 * u.sum(),
                   orthogonal, 0.5 * np.abs(s).sum()])


def as_sorted(losses):
    return sorted(float(loss) for loss in losses)


X = np.random.RandomState(0).normal(size=(8, 3)).astype("float32")
Y = np.random.RandomState(1).normal(size=(8, 3)).astype("float32")


def test_eager_first_owner_gives_the_formula():
    layer = Regularized()
    layer(X)
    np.testing.assert_allclose(as_sorted(layer.losses), expected_losses(layer), rtol=1e-6)


def test_losses_after_a_traced_first_call_eagerly_and_in_another_function():
    layer = Regularized()
    tf.function(layer)(tf.constant(X))
    expected = expected_losses(layer)
    np.testing.assert_allclose(as_sorted(layer.losses), expected, rtol=1e-6)
    in_function = tf.function(lambda: tf.add_n(layer.losses))()
    np.testing.assert_allclose(float(in_function), sum(expected), rtol=1e-6)
    # the tensor-factor regularizer made outside is kept as it was
    assert layer.weights[-1].regularizer is Regularized.outside


def test_fit_then_evaluate_on_a_fresh_keras_model():
    layer = Regularized()
    model = keras.Sequential([keras.Input((3,)), layer])
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
    model.fit(X, Y, batch_size=8, epochs=2, verbose=0)
    evaluated = model.evaluate(X, Y, batch_size=8, verbose=0)
    expected = expected_losses(layer)
    np.testing.assert_allclose(as_sorted(layer.losses), expected, rtol=1e-5)
    mse = float(np.mean((model.predict(X, verbose=0) - Y) ** 2))
    np.testing.assert_allclose(evaluated, mse + sum(expected), rtol=1e-5)


def test_a_non_keras_regularizer_made_in_the_trace_still_names_the_variable():
    """A callable holding a dead tensor is left as it is: reading `losses`
    then fails with TF's own error (no silent substitute)."""

    class Captures(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x):
            scale = tf.constant(0.5)
            v1.get_variable("v", [2], regularizer=lambda v: scale * tf.reduce_sum(v))
            return x

    layer = Captures()
    tf.function(layer)(tf.constant(X))
    with pytest.raises(Exception, match="out of scope|different graph|FuncGraph"):
        layer.losses


def test_a_layer_object_made_in_a_trace_keeps_its_regularizers_usable():
    """A `tf.compat.v1.layers` object made lazily in a traced first call (no
    decorated owner): its own `losses` read later, eagerly and traced."""
    tf1kit.install()
    made = {}

    @tf.function
    def forward(x):
        if "dense" not in made:
            made["dense"] = v1.layers.Dense(4, kernel_regularizer=keras.regularizers.l1(0.1),
                                            bias_regularizer="l1")
        return made["dense"](x)

    forward(tf.constant(X))
    dense = made["dense"]
    expected = sorted([0.1 * np.abs(dense.kernel.numpy()).sum(),
                       0.01 * np.abs(dense.bias.numpy()).sum()])
    np.testing.assert_allclose(as_sorted(dense.losses), expected, rtol=1e-6)
    np.testing.assert_allclose(float(tf.function(lambda: tf.add_n(dense.losses))()),
                               sum(expected), rtol=1e-6)
