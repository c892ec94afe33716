"""The eager fast paths of issue 16, each against a change that must defeat it.

- store/reuse_fast_path.py answers get_variable of an existing variable
  without TensorFlow's creation path;
- store/variable.py sends a TF1Variable's operators and tensor conversion
  straight to its backing tf.Variable outside Keras' stateless/autocast scopes;
- layers/functional_cache.py lets a functional call site
  (`tf.compat.v1.layers.dense`, TF-Slim) reuse the layer it built last call.

Every test changes what TF1 semantics say must change the answer (a new scope,
a new `reuse`, `drop_variable`, a redefined forward pass, a changed arg_scope, a
different layer config at the same call site, another input shape or dtype, a
custom getter, a mixed policy) and checks the answer changed as TF1's would.
Expected values come from numpy on the variables' values. Nothing is timed.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tf1kit
from tf1kit.decorator import drop_variable, find_store

tf1kit.install()
v1 = tf.compat.v1


class Forward(keras.layers.Layer):
    """A decorated layer whose forward pass the test swaps, as a redefined
    `%%tf1layer` cell swaps the code of an existing instance."""

    def __init__(self, forward, **kwargs):
        super().__init__(**kwargs)
        self.forward = forward

    @tf1kit.track_tf1_style_variables
    def call(self, x):
        return self.forward(x)


X = tf.constant(np.random.RandomState(0).uniform(-1, 1, (2, 3)), tf.float32)


def values(layer) -> dict:
    return {v.path: v.numpy() for v in layer.weights}


def functional_layers(layer) -> dict:
    return find_store(layer).functional_layers


# -- get_variable: the reuse fast path -----------------------------------------

def test_reuse_returns_the_stored_variable_and_reports_it_used():
    def forward(x):
        with v1.variable_scope("s"):
            return x * v1.get_variable("v", [3], initializer=v1.ones_initializer())

    layer = Forward(forward)
    layer(X)
    first = find_store(layer).variables_by_name["s/v"]
    layer(X)
    assert find_store(layer).variables_by_name["s/v"] is first
    assert find_store(layer).used_in_call == ["s/v"]
    assert find_store(layer).created_in_call == []


def test_drop_variable_makes_the_next_call_create_it_again():
    def forward(x):
        with v1.variable_scope("s"):
            return x + v1.get_variable("v", [3], initializer=v1.ones_initializer())

    layer = Forward(forward)
    layer(X)
    old = find_store(layer).variables_by_name["s/v"]
    old.assign([5.0, 5.0, 5.0])
    drop_variable(layer, "s/v")
    out = layer(X)
    new = find_store(layer).variables_by_name["s/v"]
    assert new is not old
    np.testing.assert_allclose(out.numpy(), X.numpy() + 1.0)
    assert find_store(layer).created_in_call == ["s/v"]


def test_a_new_scope_name_creates_a_new_variable():
    names = iter(["a", "b"])

    def forward(x):
        with v1.variable_scope(next(names)):
            return x * v1.get_variable("v", [3], initializer=v1.ones_initializer())

    layer = Forward(forward)
    layer(X)
    layer(X)
    assert sorted(find_store(layer).variables_by_name) == ["a/v", "b/v"]


def test_reuse_true_still_raises_for_a_missing_variable_and_finds_an_existing_one():
    missing = {"name": "v"}

    def forward(x):
        with v1.variable_scope("s"):
            v = v1.get_variable("v", [3], initializer=v1.ones_initializer())
        with v1.variable_scope("s", reuse=True):
            again = v1.get_variable(missing["name"], [3])
        assert again is v
        return x * v

    layer = Forward(forward)
    layer(X)
    layer(X)  # the fast path answers reuse=True for the existing variable
    missing["name"] = "w"
    with pytest.raises(ValueError, match="s/w does not exist"):
        layer(X)


@pytest.mark.parametrize("kwargs, message", [
    (dict(shape=[4]), r"Trying to share variable s/v, but specified shape \(4,\)"),
    (dict(shape=[3], dtype=tf.float64), "specified dtype float64 and found dtype float32"),
    (dict(shape=[3], initializer=tf.constant([1.0, 2.0, 3.0])),
     "if initializer is a constant, do not specify shape"),
    (dict(shape=[3], partitioner=v1.fixed_size_partitioner(3)),
     "requested with partitioner"),
    (dict(shape=[3], aggregation="bogus"), "Invalid variable aggregation mode: bogus .*s/v"),
    (dict(shape=[3], synchronization="bogus"),
     "Invalid variable synchronization mode: bogus .*s/v"),
], ids=["shape", "dtype", "constant_with_shape", "partitioner", "aggregation",
        "synchronization"])
def test_reuse_keeps_tensorflows_checks(kwargs, message):
    second = {}

    def forward(x):
        with v1.variable_scope("s"):
            v = v1.get_variable("v", [3], initializer=v1.ones_initializer())
            if second:
                v1.get_variable("v", **second)
            return x * v

    layer = Forward(forward)
    layer(X)
    second.update(kwargs)
    with pytest.raises(ValueError, match=message):
        layer(X)


def test_a_custom_getter_runs_on_every_reuse():
    calls = []

    def doubling_getter(getter, *args, **kwargs):
        calls.append(kwargs.get("name", args[0] if args else None))
        return getter(*args, **kwargs) * 2.0

    def forward(x):
        with v1.variable_scope("s", custom_getter=doubling_getter):
            return x * v1.get_variable("v", [3], initializer=v1.ones_initializer())

    layer = Forward(forward)
    layer(X)
    out = layer(X)
    assert len(calls) == 2
    np.testing.assert_allclose(out.numpy(), X.numpy() * 2.0)


def test_a_scope_initializer_constant_with_shape_still_raises_on_reuse():
    constant = {}

    def forward(x):
        with v1.variable_scope("s", **constant):
            return x * v1.get_variable("v", [3], initializer=None if constant else
                                       v1.ones_initializer())

    layer = Forward(forward)
    layer(X)
    constant["initializer"] = tf.constant([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="if initializer is a constant"):
        layer(X)


# -- TF1Variable reads: straight to the backing variable ---------------------

def _variable(value):
    layer = Forward(lambda x: x * v1.get_variable(
        "v", initializer=tf.constant(value, tf.float32)))
    layer(X)
    return find_store(layer).variables_by_name["v"]


def test_operators_compute_with_tensorflow_and_record_gradients():
    v = _variable([1.0, 2.0, 3.0])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(v * 3.0 + 1.0 - v / 2.0) + tf.reduce_sum(-v ** 2)
    np.testing.assert_allclose(tape.gradient(y, v).numpy(), 2.5 - 2 * np.array([1.0, 2.0, 3.0]))
    assert isinstance(v + 1.0, tf.Tensor) and (v + 1.0).dtype == tf.float32
    np.testing.assert_allclose((2.0 * v).numpy(), [2.0, 4.0, 6.0])
    np.testing.assert_allclose(v[1:].numpy(), [2.0, 3.0])
    assert (v > 1.5).numpy().tolist() == [False, True, True]


def test_operators_follow_tensorflows_dtype_rules_not_keras():
    v = _variable([1.0, 2.0, 3.0])
    # TF (and TF1) refuse float32 + int32; Keras 3 would promote.
    with pytest.raises((TypeError, ValueError, tf.errors.InvalidArgumentError)):
        v + tf.constant([1, 2, 3])


def test_conversion_to_another_dtype_is_refused_as_tensorflow_refuses_it():
    # The direct read skips `_dense_var_to_tensor` only when no other dtype is asked.
    v = _variable([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="Incompatible type conversion requested to type"):
        tf.convert_to_tensor(v, dtype=tf.int32)
    assert tf.convert_to_tensor(v, dtype=tf.float32).dtype == tf.float32


def test_inside_an_autocast_scope_reads_are_cast_as_keras_casts_them():
    v = _variable([1.0, 2.0, 3.0])
    with keras.src.backend.AutocastScope("float16"):
        assert (v * 2.0).dtype == tf.float16
        assert tf.convert_to_tensor(v).dtype == tf.float16
    assert (v * 2.0).dtype == tf.float32
    assert tf.convert_to_tensor(v).dtype == tf.float32


def test_scopes_are_still_seen_after_keras_clear_session():
    # clear_session() gives Keras a new thread-local for its scopes; the
    # direct reads must look there, not at the one of import time.
    v = _variable([1.0, 2.0, 3.0])
    keras.backend.clear_session()
    with keras.src.backend.AutocastScope("float16"):
        assert (v * 2.0).dtype == tf.float16
        assert tf.convert_to_tensor(v).dtype == tf.float16
    with keras.src.backend.StatelessScope(state_mapping=[(v, tf.constant([7.0, 8.0, 9.0]))]):
        np.testing.assert_allclose((v + 0.0).numpy(), [7.0, 8.0, 9.0])
    np.testing.assert_allclose((v + 0.0).numpy(), [1.0, 2.0, 3.0])


def test_inside_a_stateless_scope_reads_see_the_scopes_value():
    v = _variable([1.0, 2.0, 3.0])
    with keras.StatelessScope(state_mapping=[(v, tf.constant([7.0, 8.0, 9.0]))]):
        np.testing.assert_allclose((v + 0.0).numpy(), [7.0, 8.0, 9.0])
        np.testing.assert_allclose(tf.convert_to_tensor(v).numpy(), [7.0, 8.0, 9.0])
    np.testing.assert_allclose((v + 0.0).numpy(), [1.0, 2.0, 3.0])


# -- functional layers: one built layer per call site --------------------------

def dense_forward(**kwargs):
    def forward(x):
        return v1.layers.dense(x, 4, name="d", **kwargs)
    return forward


def test_a_functional_call_site_reuses_its_built_layer_and_reports_its_variables():
    layer = Forward(dense_forward())
    first = layer(X)
    (site_entry,) = functional_layers(layer).values()
    built = site_entry[-1]
    second = layer(X)
    (site_entry,) = functional_layers(layer).values()
    assert site_entry[-1] is built
    np.testing.assert_allclose(second.numpy(), first.numpy())
    w = values(layer)
    np.testing.assert_allclose(second.numpy(), X.numpy() @ w["d/kernel"] + w["d/bias"],
                               rtol=1e-6)
    assert find_store(layer).used_in_call == ["d/kernel", "d/bias"]


def test_a_different_config_at_the_same_call_site_takes_effect():
    forward = {"f": dense_forward()}
    layer = Forward(lambda x: forward["f"](x))
    layer(X)
    forward["f"] = dense_forward(activation=tf.nn.relu)
    out = layer(X)
    w = values(layer)
    np.testing.assert_allclose(out.numpy(), np.maximum(X.numpy() @ w["d/kernel"] + w["d/bias"], 0),
                               rtol=1e-6)
    forward["f"] = dense_forward(use_bias=False)
    out = layer(X)
    np.testing.assert_allclose(out.numpy(), X.numpy() @ w["d/kernel"], rtol=1e-6)


def test_a_redefined_forward_pass_reports_only_what_it_uses():
    """What `%%tf1layer`'s unused_variable_names reads after a redefinition."""
    forward = {"f": dense_forward()}
    layer = Forward(lambda x: forward["f"](x))
    layer(X)
    layer(X)
    forward["f"] = lambda x: v1.layers.dense(x, 4, name="e")
    layer(X)
    assert find_store(layer).used_in_call == ["e/kernel", "e/bias"]
    forward["f"] = dense_forward()
    layer(X)  # back to the first site: reused, and reported as used
    assert find_store(layer).used_in_call == ["d/kernel", "d/bias"]


def test_drop_variable_defeats_the_reused_layer():
    layer = Forward(dense_forward())
    layer(X)
    old_kernel = find_store(layer).variables_by_name["d/kernel"]
    drop_variable(layer, "d/kernel")
    out = layer(X)
    new_kernel = find_store(layer).variables_by_name["d/kernel"]
    assert new_kernel is not old_kernel
    assert find_store(layer).created_in_call == ["d/kernel"]
    w = values(layer)
    np.testing.assert_allclose(out.numpy(), X.numpy() @ w["d/kernel"] + w["d/bias"], rtol=1e-6)


def test_a_new_scope_or_reuse_is_a_new_call_site_key():
    state = {"scope": "outer", "reuse": None}

    def forward(x):
        with v1.variable_scope(state["scope"]):
            return v1.layers.dense(x, 4, name="d", reuse=state["reuse"])

    layer = Forward(forward)
    layer(X)
    state["scope"] = "other"
    layer(X)
    assert sorted(find_store(layer).variables_by_name) == [
        "other/d/bias", "other/d/kernel", "outer/d/bias", "outer/d/kernel"]
    state["reuse"] = True
    layer(X)  # reuse=True: a new key, the same variables
    assert len(functional_layers(layer)) == 2
    keys = {entry[0] for entry in functional_layers(layer).values()}
    assert any(("reuse", True) in key or ("_reuse", True) in key for key in keys)
    state["scope"] = "third"
    with pytest.raises(ValueError, match="third/d/kernel does not exist"):
        layer(X)


def test_another_input_shape_builds_again_as_a_new_layer_would():
    layer = Forward(dense_forward())
    layer(X)
    with pytest.raises(ValueError, match=r"Trying to share variable d/kernel"):
        layer(tf.ones([2, 5]))
    out = layer(tf.ones([7, 3]))  # another batch size: the same layer, no rebuild
    w = values(layer)
    np.testing.assert_allclose(out.numpy(), np.ones([7, 3]) @ w["d/kernel"] + w["d/bias"],
                               rtol=1e-6)


def test_a_custom_getter_around_a_functional_layer_runs_every_call():
    calls = []

    def scaling_getter(getter, *args, **kwargs):
        calls.append(1)
        return getter(*args, **kwargs) * 0.5

    def forward(x):
        with v1.variable_scope("g", custom_getter=scaling_getter):
            return v1.layers.dense(x, 4, name="d", use_bias=False)

    layer = Forward(forward)
    layer(X)
    out = layer(X)
    assert len(calls) == 2
    np.testing.assert_allclose(out.numpy(), X.numpy() @ (0.5 * values(layer)["g/d/kernel"]),
                               rtol=1e-6)


def test_a_mixed_policy_set_between_calls_takes_effect():
    layer = Forward(dense_forward())
    assert layer(X).dtype == tf.float32
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        assert layer(X).dtype == tf.float16
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert layer(X).dtype == tf.float32


def test_batch_norm_reused_layer_keeps_updating_its_moving_statistics():
    def forward(x):
        return v1.layers.batch_normalization(x, momentum=0.5, training=True, name="bn")

    layer = Forward(forward)
    x = tf.constant(np.random.RandomState(1).normal(size=(8, 3)), tf.float32)
    layer(x)
    layer(x)
    mean = x.numpy().mean(axis=0)
    # Two updates from zero with momentum 0.5: 0.5 * (0.5 * 0 + 0.5 m) + 0.5 m.
    np.testing.assert_allclose(values(layer)["bn/moving_mean"], 0.75 * mean, rtol=1e-5)


# -- TF-Slim: the layer object of each slim call -------------------------------

slim = pytest.importorskip("tf_slim")


def slim_forward(options):
    def forward(x):
        with slim.arg_scope([slim.fully_connected], **options):
            return slim.fully_connected(x, 4, scope="fc")
    return forward


def test_slim_reuses_its_layer_and_a_changed_arg_scope_takes_effect():
    options = {"activation_fn": None,
               "weights_initializer": v1.glorot_uniform_initializer()}
    layer = Forward(slim_forward(options))
    layer(X)
    (entry,) = functional_layers(layer).values()
    options["weights_initializer"] = v1.glorot_uniform_initializer()  # creation-only
    out = layer(X)
    assert functional_layers(layer)[next(iter(functional_layers(layer)))][-1] is entry[-1]
    w = values(layer)
    np.testing.assert_allclose(out.numpy(), X.numpy() @ w["fc/weights"] + w["fc/biases"],
                               rtol=1e-6)
    options["activation_fn"] = tf.nn.relu  # applied by slim itself, per call
    out = layer(X)
    np.testing.assert_allclose(
        out.numpy(), np.maximum(X.numpy() @ w["fc/weights"] + w["fc/biases"], 0), rtol=1e-6)
    options["biases_initializer"] = None  # no bias: another layer config
    out = layer(X)
    np.testing.assert_allclose(out.numpy(), np.maximum(X.numpy() @ w["fc/weights"], 0),
                               rtol=1e-6)
    assert find_store(layer).used_in_call == ["fc/weights"]


def test_slim_under_a_users_custom_getter_is_not_reused():
    calls = []

    def counting_getter(getter, *args, **kwargs):
        calls.append(1)
        return getter(*args, **kwargs)

    def forward(x):
        with v1.variable_scope("u", custom_getter=counting_getter):
            return slim.fully_connected(x, 4, scope="fc")

    layer = Forward(forward)
    layer(X)
    layer(X)
    assert len(calls) == 4  # weights and biases, on both calls


def test_a_reused_layer_still_claims_its_scope_name_for_later_default_names():
    """TF1: `dense(name="claimed")` opens scope "claimed", so a later
    `variable_scope(None, default_name="claimed")` becomes "claimed_1"."""
    def forward(x):
        y = v1.layers.dense(x, 3, name="claimed")
        with v1.variable_scope(None, default_name="claimed"):
            return y * v1.get_variable("v", [3], initializer=v1.ones_initializer())

    layer = Forward(forward)
    layer(X)
    layer(X)  # the reused layer
    assert sorted(find_store(layer).variables_by_name) == [
        "claimed/bias", "claimed/kernel", "claimed_1/v"]
    assert find_store(layer).used_in_call == ["claimed/kernel", "claimed/bias", "claimed_1/v"]


def test_two_threads_at_one_call_site_never_share_the_layer_object(monkeypatch):
    """TF1 gave each call its own layer object; a call site that one thread is
    running hands another thread a new layer."""
    import importlib
    import threading

    dense_module = importlib.import_module("tf1kit.layers.dense")

    barrier = threading.Barrier(2, timeout=20)
    armed = threading.Event()
    callers = []
    original_call = dense_module.Dense.call

    def recording_call(self, inputs):
        callers.append(id(self))
        return original_call(self, inputs)

    def waiting_activation(t):
        if armed.is_set():
            barrier.wait()  # both threads are inside their layer's call now
        return t

    def forward(x):
        return v1.layers.dense(x, 4, name="d", activation=waiting_activation)

    layer = Forward(forward)
    layer(X)
    monkeypatch.setattr(dense_module.Dense, "call", recording_call)
    armed.set()
    outputs = [None, None]

    def run(index):
        outputs[index] = layer(X)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(set(callers)) == 2
    w = values(layer)
    for out in outputs:
        np.testing.assert_allclose(out.numpy(), X.numpy() @ w["d/kernel"] + w["d/bias"], rtol=1e-6)
    armed.clear()
    layer(X)  # and the cached layer is free again afterwards
    (entry,) = functional_layers(layer).values()
    assert entry[-1]._functional_busy is False


def test_a_get_variable_wrapped_on_the_store_sees_every_reuse():
    """to_keras records requests by wrapping `store.get_variable` on the instance."""
    def forward(x):
        with v1.variable_scope("s"):
            return x * v1.get_variable("v", [3], initializer=v1.ones_initializer())

    layer = Forward(forward)
    layer(X)
    store = find_store(layer)
    seen = []
    original = store.get_variable

    def recording(name, *args, **kwargs):
        seen.append((name, kwargs.get("initializer")))
        return original(name, *args, **kwargs)

    store.__dict__["get_variable"] = recording
    try:
        layer(X)
    finally:
        del store.__dict__["get_variable"]
    assert [name for name, _ in seen] == ["s/v"]
    assert isinstance(seen[0][1], v1.ones_initializer)


# -- decorator/deprecation_checks.py: TF's deprecation checks on the first call ----

from tensorflow.python.util import deprecation  # noqa: E402


@deprecation.deprecated_arg_values(None, "Pass mode='new'.", warn_once=False, mode="old")
def _deprecated_mode(x, mode="new"):
    return x


class _Warnings(list):
    """TensorFlow's logger records: deprecation warnings go through it."""

    def __enter__(self):
        import logging

        self._handler = logging.Handler()
        self._handler.emit = lambda record: self.append(record.getMessage())
        tf.get_logger().addHandler(self._handler)
        return self

    def __exit__(self, *exc):
        tf.get_logger().removeHandler(self._handler)

    def count(self):
        return sum("mode=old is deprecated" in message for message in self)


def _warning_forward(event=None, release=None):
    def forward(x):
        if event is not None:
            event.set()
            release.wait(10)
        with v1.variable_scope("s"):
            w = v1.get_variable("w", [3], initializer=v1.ones_initializer())
        return _deprecated_mode(x, mode="old") * w
    return forward


def test_deprecation_checks_warn_on_the_first_call_and_in_traces_only():
    # TF1 built its graph once and warned then; later eager calls skip the
    # checks (their cost), a tf.function trace builds a graph and warns again.
    layer = Forward(_warning_forward())
    with _Warnings() as warnings:
        layer(X)
        assert warnings.count() == 1
        layer(X), layer(X)
        assert warnings.count() == 1
        tf.function(lambda x: layer(x))(X)
        assert warnings.count() == 2
        _deprecated_mode(1, mode="old")  # outside calls the checks are back
        assert warnings.count() == 3
    assert deprecation._PRINT_DEPRECATION_WARNINGS is True


def test_deprecation_flag_comes_back_as_found_after_errors_and_interrupts():
    def raising(exc):
        def forward(x):
            w = _warning_forward()(x)
            if exc is not None:
                raise exc
            return w
        return forward

    for exc in (ValueError("bad"), KeyboardInterrupt()):
        layer = Forward(raising(None))
        layer(X)
        layer.forward = raising(exc)
        with pytest.raises(type(exc)):
            layer(X)
        assert deprecation._PRINT_DEPRECATION_WARNINGS is True
    # A user who silenced TensorFlow keeps it silenced.
    deprecation._PRINT_DEPRECATION_WARNINGS = False
    try:
        layer = Forward(_warning_forward())
        layer(X), layer(X)
        assert deprecation._PRINT_DEPRECATION_WARNINGS is False
    finally:
        deprecation._PRINT_DEPRECATION_WARNINGS = True


def test_deprecation_checks_stay_off_until_the_last_thread_leaves():
    import threading

    inside, release = threading.Event(), threading.Event()
    slow = Forward(_warning_forward())
    fast = Forward(_warning_forward())
    slow(X), fast(X)
    slow.forward = _warning_forward(inside, release)
    thread = threading.Thread(target=slow, args=(X,))
    thread.start()
    try:
        assert inside.wait(10)
        fast(X)  # starts and ends while the other thread's call runs
        assert deprecation._PRINT_DEPRECATION_WARNINGS is False
    finally:
        release.set()
        thread.join(10)
    assert deprecation._PRINT_DEPRECATION_WARNINGS is True


# -- layers/base.py: a layer re-enters its variable scope entry eagerly ------------

from tensorflow.python.framework import ops as tf_ops  # noqa: E402

from tf1kit.store.scope_hooks import requested_reuse  # noqa: E402


class _Probe(v1.layers.Layer):
    """Records the name scope and variable scope its call runs in."""

    def __init__(self, inside=None, **kwargs):
        super().__init__(**kwargs)
        self.seen, self.inside = [], inside

    def build(self, input_shape):
        self.w = self.add_weight("w", [int(input_shape[-1])], initializer=v1.ones_initializer())
        super().build(input_shape)

    def call(self, x):
        scope = v1.get_variable_scope()
        self.seen.append((tf_ops.get_name_scope(), scope.name, requested_reuse(scope)))
        if self.inside is not None:
            self.inside(x)
        return x * self.w


def test_a_reentered_layer_scope_follows_the_callers_name_scope():
    # The kept entry puts back the name scope it first saw: another name
    # scope at the call must make a new one, as a new entry would see it.
    probe = _Probe(name="probe")

    def forward(x):
        probe(x)
        with v1.name_scope("outer"):
            probe(x)
        return probe(x)

    Forward(forward)(X)
    base = probe.seen[0][0]  # the owner's Keras name scope
    assert probe.seen[1:] == [(f"{base}/outer", "probe", True), (base, "probe", True)]
    assert v1.get_variable_scope().name == "" and tf_ops.get_name_scope() == ""


def test_a_call_that_changes_its_scope_does_not_hand_the_change_to_the_next_call():
    # TF1 entered a new scope object from the layer's scope on every call; a
    # custom getter set on it in one call never reached the next.
    asked = []

    def getter(getter, name, *args, **kwargs):
        asked.append(name)
        return getter(name, *args, **kwargs)

    calls = []

    def set_getter_in_second_call(x):
        calls.append(1)
        if len(calls) == 2:  # the first call with reuse=True, as later ones
            v1.get_variable_scope().set_custom_getter(getter)
        v1.get_variable("late", [3], initializer=v1.zeros_initializer())

    layer = Forward(lambda x: probe(x))
    probe = _Probe(inside=set_getter_in_second_call, name="probe")
    layer(X), layer(X)
    assert asked == ["probe/late"]
    layer(X), layer(X)
    assert asked == ["probe/late"]


def test_an_interrupted_layer_call_leaves_scopes_and_its_entry_free():
    def interrupt_second(x, calls=[]):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt

    probe = _Probe(inside=interrupt_second, name="probe")
    layer = Forward(lambda x: probe(x))
    layer(X)
    with pytest.raises(KeyboardInterrupt):
        layer(X)
    assert v1.get_variable_scope().name == "" and tf_ops.get_name_scope() == ""
    assert not probe._scope_reentry.lock.locked()
    np.testing.assert_allclose(layer(X), X.numpy())
    assert probe.seen[-1][1:] == ("probe", True) and probe.seen[-1][0] == probe.seen[0][0]


def test_two_threads_in_one_layer_object_each_enter_its_scope():
    import threading

    inside, release = threading.Event(), threading.Event()

    def wait_in_first_thread(x):
        if threading.current_thread().name == "first":
            inside.set()
            release.wait(10)

    probe = _Probe(inside=wait_in_first_thread, name="probe")
    layer = Forward(lambda x: probe(x))
    layer(X)
    results = {}
    first = threading.Thread(name="first", target=lambda: results.update(first=layer(X)))
    first.start()
    try:
        assert inside.wait(10)
        results["second"] = layer(X)  # the entry is in use: a new one
        assert v1.get_variable_scope().name == ""
    finally:
        release.set()
        first.join(10)
    for value in results.values():
        np.testing.assert_allclose(value, X.numpy())
    assert [seen[1:] for seen in probe.seen[1:]] == [("probe", True)] * 2
    assert not probe._scope_reentry.lock.locked()
    # One thread after another: each thread has a scope store of its own.
    layer(X)
    later = threading.Thread(target=lambda: results.update(later=layer(X)))
    later.start(), later.join(10)
    np.testing.assert_allclose(results["later"], X.numpy())
    assert [seen[1:] for seen in probe.seen[3:]] == [("probe", True)] * 2


def test_a_layer_calling_itself_enters_its_scope_twice_and_leaves_both():
    def again_once(x, depth=[]):
        if not depth:
            depth.append(1)
            try:
                probe(x)
            finally:
                depth.clear()

    probe = _Probe(inside=again_once, name="probe")
    after = []

    def forward(x):
        y = probe(x)
        after.append(v1.get_variable_scope().name)
        return y

    layer = Forward(forward)
    layer(X), layer(X)
    assert after == ["", ""]
    assert [seen[1] for seen in probe.seen] == ["probe"] * 4


def test_an_argument_added_at_a_call_site_takes_effect():
    # TF-Slim passes its keyword arguments through: a call site can add one
    # (here an activation) while every argument it passed before is the same object.
    from tf1kit.layers.base import construct_functional

    extra = {}

    def forward(x):
        layer = construct_functional(v1.layers.Dense, dict(units=4, name="d", _scope="d", **extra))
        return layer(x)

    layer = Forward(forward)
    layer(X)
    extra["activation"] = tf.nn.relu
    out = layer(X)
    w = values(layer)
    np.testing.assert_allclose(out.numpy(), np.maximum(X.numpy() @ w["d/kernel"] + w["d/bias"], 0),
                               rtol=1e-6)


def test_slim_pooling_reuses_its_layer_and_a_changed_size_takes_effect():
    # Slim builds a pooling layer per call with `_scope=sc`; the call site keeps
    # it (it holds nothing a call changes), and a new kernel size is a new layer.
    images = tf.constant(np.random.RandomState(1).uniform(-1, 1, (1, 4, 4, 2)), tf.float32)
    size = {"k": 2}

    def forward(x):
        pooled = slim.max_pool2d(x, [size["k"], size["k"]], stride=size["k"], scope="pool")
        with v1.variable_scope(None, default_name="pool"):
            name = v1.get_variable_scope().name
        return pooled, name

    def max_pool(x, k):
        n, h, w, c = x.shape
        return x.reshape(n, h // k, k, w // k, k, c).max(axis=(2, 4))

    layer = Forward(forward)
    first, first_name = layer(images)
    (pool_site,) = [key for key in functional_layers(layer) if "pool" in key[1]]
    pool_layer = functional_layers(layer)[pool_site][-1]
    again, again_name = layer(images)
    assert functional_layers(layer)[pool_site][-1] is pool_layer
    np.testing.assert_array_equal(again.numpy(), max_pool(images.numpy(), 2))
    np.testing.assert_array_equal(first.numpy(), again.numpy())
    # The scope the pooling layer claims is claimed on a reuse too.
    assert again_name == first_name
    size["k"] = 4
    out, _ = layer(images)
    np.testing.assert_array_equal(out.numpy(), max_pool(images.numpy(), 4))


def test_a_layer_outside_decorated_calls_keeps_its_own_store():
    # Only there does a call enter the layer's own store: a get_variable in
    # `call` finds the variable of its first call, as inside an owner.
    class Counter(v1.layers.Layer):
        def call(self, x):
            return x * v1.get_variable("scale", [3], initializer=v1.ones_initializer())

    layer = Counter(name="counter")
    layer(X), layer(X)
    (scale,) = layer._own_store._vars.values()
    scale.assign([2.0, 3.0, 4.0])
    np.testing.assert_allclose(layer(X).numpy(), X.numpy() * [2.0, 3.0, 4.0])
    assert len(layer._own_store._vars) == 1
