"""Call observers (the notebook's inspector, %tf1debug) watch, never break:
an observer that raises is detached with a warning and the call goes on."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import tensorflow as tf
import keras

import tf1kit
from tf1kit.decorator import add_call_observer, is_call_observer, remove_call_observer

v1 = tf.compat.v1


class Scaled(keras.layers.Layer):
    @tf1kit.track_tf1_style_variables
    def call(self, x):
        return x * v1.get_variable("w", [], initializer=v1.constant_initializer(3.0),
                                   regularizer=lambda t: 0.01 * t)


@pytest.fixture
def observers():
    """Observers attached by the test, removed afterwards if still attached."""
    attached = []

    def attach(observer):
        add_call_observer(observer)
        attached.append(observer)
        return observer

    yield attach
    for observer in attached:
        if is_call_observer(observer):
            remove_call_observer(observer)


def recorder(log, name):
    def observe(owner, args, kwargs):
        log.append((name, "start"))
        return lambda error: log.append((name, "end", type(error).__name__ if error else None))
    return observe


def test_an_observer_failing_at_the_start_is_detached_and_the_call_runs(observers):
    log = []

    def broken(owner, args, kwargs):
        raise RuntimeError("observer bug")

    observers(recorder(log, "before"))
    observers(broken)
    observers(recorder(log, "after"))
    layer = Scaled()
    with pytest.warns(RuntimeWarning, match=r"observer 'test_an_observer_failing_at_the_start"
                                            r".*broken' raised RuntimeError: observer bug at the "
                                            r"start of a call of 'scaled'; it was detached"):
        out = layer(tf.ones([2]))
    np.testing.assert_allclose(out.numpy(), [3.0, 3.0])
    assert not is_call_observer(broken)
    assert log == [("before", "start"), ("after", "start"),
                   ("before", "end", None), ("after", "end", None)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(layer(tf.ones([2])).numpy(), [3.0, 3.0])


def test_an_observer_failing_at_the_finish_keeps_the_result_and_the_error(observers):
    log = []

    def broken_finish(owner, args, kwargs):
        def finish(error):
            raise ValueError("finish bug")
        return finish

    observers(broken_finish)
    observers(recorder(log, "other"))
    layer = Scaled()
    with pytest.warns(RuntimeWarning, match="raised ValueError: finish bug at the finish"):
        np.testing.assert_allclose(layer(tf.ones([2])).numpy(), [3.0, 3.0])
    assert not is_call_observer(broken_finish)
    assert log[-1] == ("other", "end", None)

    # A failing call keeps its own error when an observer fails too.
    observers(broken_finish)
    with pytest.warns(RuntimeWarning, match="finish bug"):
        with pytest.raises(ValueError, match="Trying to share variable w"):
            _conflicting_call()
    assert log[-1] == ("other", "end", "ValueError")


def _conflicting_call():
    """A call whose get_variable asks for `w` with another shape."""
    class Conflict(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x):
            v1.get_variable("w", [], initializer=v1.ones_initializer())
            return x * v1.get_variable("w", [3])

    return Conflict()(tf.ones([2]))


def test_keyboard_interrupt_in_an_observer_propagates_and_keeps_it(observers):
    def interrupting(owner, args, kwargs):
        raise KeyboardInterrupt

    observers(interrupting)
    layer = Scaled()
    with pytest.raises(KeyboardInterrupt):
        layer(tf.ones([2]))
    assert is_call_observer(interrupting)
    remove_call_observer(interrupting)
    np.testing.assert_allclose(layer(tf.ones([2])).numpy(), [3.0, 3.0])
    assert [v.name for v in layer.weights] == ["w:0"]


def test_adding_an_observer_twice_keeps_one(observers):
    log = []
    observe = recorder(log, "once")
    observers(observe)
    add_call_observer(observe)
    Scaled()(tf.ones([1]))
    assert log == [("once", "start"), ("once", "end", None)]


class ElementwiseRegularized(keras.layers.Layer):
    @tf1kit.track_tf1_style_variables
    def call(self, x):
        return x * v1.get_variable("w", [2], initializer=v1.constant_initializer(3.0),
                                   regularizer=lambda t: 0.01 * t)


def test_a_failing_inspector_never_breaks_the_layer():
    """A per-element regularizer (a loss per element) once made the inspector
    raise on every refresh, and with it every later call of the layer."""
    layer = ElementwiseRegularized()
    layer(tf.ones([2]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            inspector = tf1kit.inspect(layer)
        except Exception:  # noqa: BLE001 - the inspector may refuse; the layer must not
            inspector = None
        for _ in range(3):
            np.testing.assert_allclose(layer(tf.ones([2])).numpy(), [3.0, 3.0])
    if inspector is not None:
        inspector.close()
