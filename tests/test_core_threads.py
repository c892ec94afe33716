"""Threads: racing first calls share one set of variables; owners called
at the same time from different threads never see each other's store."""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest
import tensorflow as tf
import keras

import tf1kit
from tf1kit.store import TF1Variable

v1 = tf.compat.v1
X = tf.constant(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4))


class Net(keras.layers.Layer):
    @tf1kit.track_tf1_style_variables
    def call(self, x):
        for _ in range(3):
            with v1.variable_scope(None, default_name="blk"):
                x = tf1kit.layers.dense(x, 4, kernel_initializer=v1.constant_initializer(0.1))
        with v1.variable_scope("top"):
            for i in range(4):
                x = x * v1.get_variable(f"s{i}", [4], initializer=v1.ones_initializer())
        head = tf1kit.get_or_create_layer(
            "head", lambda: keras.layers.Dense(2, kernel_initializer="ones"))
        return head(x)


class LazyInner(keras.layers.Layer):
    """Builds a Keras sub-layer in its first call: racing threads must not
    trip Keras' "cannot add new elements of state" lock."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = None

    @tf1kit.track_tf1_style_variables
    def call(self, x):
        if self.inner is None:
            self.inner = keras.layers.Dense(2, kernel_initializer="ones")
        with v1.variable_scope("lazy"):
            return self.inner(x * v1.get_variable("s", [], initializer=v1.ones_initializer()))


class Module(tf.Module):
    @tf1kit.track_tf1_style_variables
    def __call__(self, x):
        with v1.variable_scope("m"):
            for i in range(6):
                x = x + v1.get_variable(f"b{i}", [4], initializer=v1.ones_initializer())
        return x


@pytest.fixture
def fast_switching():
    """Switch threads every microsecond so that races show up in every trial."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(previous)


def race(calls, threads=2):
    """Runs `calls(i)` in `threads` threads released together; returns errors."""
    barrier = threading.Barrier(threads)
    errors = []

    def run(i):
        barrier.wait()
        try:
            calls(i)
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return errors


def names(owner):
    variables = owner.weights if isinstance(owner, keras.layers.Layer) else owner.variables
    return [v.name for v in variables]


@pytest.mark.parametrize("make", [Net, LazyInner, Module],
                         ids=["keras_layer", "lazy_sub_layer", "tf_module"])
def test_racing_first_calls_create_one_set_of_variables(make, fast_switching):
    reference = make()
    expected_out = reference(X).numpy()
    expected = sorted(names(reference))
    for trial in range(20):
        owner = make()
        outputs = [None] * 8
        errors = race(lambda i: outputs.__setitem__(i, owner(X).numpy()), threads=8)
        assert not errors, f"trial {trial}: {errors[0]!r}"
        assert sorted(names(owner)) == expected, f"trial {trial}"
        for out in outputs:
            np.testing.assert_allclose(out, expected_out, rtol=1e-6)
        store = tf1kit.decorator.find_store(owner)
        assert len(store.variables_by_name) == len(
            [n for n in expected if not n.startswith(("kernel", "bias"))])


def test_owners_called_at_once_in_two_threads_keep_their_own_variables(fast_switching):
    """The active store is per thread: one thread's call never lands in the
    store of the owner another thread is running."""
    first, second = Net(), Module()
    reference_net, reference_module = Net(), Module()
    reference_net(X)
    reference_module(X)
    owners = (first, second)
    errors = race(lambda i: [owners[i](X) for _ in range(30)])
    assert not errors, repr(errors[0])
    assert sorted(names(first)) == sorted(names(reference_net))
    assert sorted(names(second)) == sorted(names(reference_module))


def test_later_calls_from_many_threads_create_nothing(fast_switching):
    net = Net()
    expected_out = net(X).numpy()
    count = len(net.weights)
    outputs = []
    errors = race(lambda i: outputs.extend(net(X).numpy() for _ in range(10)), threads=4)
    assert not errors, repr(errors[0])
    assert len(net.weights) == count
    for out in outputs:
        np.testing.assert_allclose(out, expected_out, rtol=1e-6)


def test_a_thread_outside_any_decorated_call_sees_no_store(fast_switching):
    """While another thread is inside a decorated call, a plain eager
    get_variable still gets TensorFlow's answer, not the owner's store."""
    inside = threading.Event()
    release = threading.Event()

    class Slow(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x):
            w = v1.get_variable("w", [], initializer=v1.ones_initializer())
            inside.set()
            release.wait(10)
            return x * w

    layer = Slow()
    worker = threading.Thread(target=lambda: layer(X))
    worker.start()
    try:
        assert inside.wait(10)
        plain = v1.get_variable("w", [], initializer=v1.zeros_initializer())
        assert not isinstance(plain, TF1Variable)  # TF's own eager variable
    finally:
        release.set()
        worker.join()
    assert [v.name for v in layer.weights] == ["w:0"]


def test_a_variable_first_asked_for_in_a_later_call_is_created_once(fast_switching):
    """The first call's lock is gone by then; the store's own check under its
    creation lock keeps racing threads to one variable."""

    class Branching(keras.layers.Layer):
        extra = False

        @tf1kit.track_tf1_style_variables
        def call(self, x):
            x = x * v1.get_variable("base", [], initializer=v1.ones_initializer())
            if self.extra:
                with v1.variable_scope("late"):
                    for i in range(5):
                        x = x + v1.get_variable(f"v{i}", [], initializer=v1.zeros_initializer())
            return x

    for trial in range(10):
        layer = Branching()
        layer(X)
        layer.extra = True
        errors = race(lambda i: layer(X), threads=4)
        assert not errors, repr(errors[0])
        assert [v.name for v in layer.weights] == ["base:0"] + [f"late/v{i}:0" for i in range(5)]
