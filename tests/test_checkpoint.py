"""Loading checkpoints written by a real TF1 `Saver` in a TF1 graph."""

import glob
import os
import re

import numpy as np
import pytest
import tensorflow as tf
import keras

import tf1kit
from interrupts import interrupt_at
from tf1kit.checkpoint import CheckpointReadError
from tf1kit.checkpoint.tf1_checkpoint import DEFAULT_IGNORED

v1 = tf.compat.v1


def forward(x):
    """TF1 modeling code shared by the graph and the shim."""
    with v1.variable_scope("model"):
        with v1.variable_scope("hidden"):
            w = v1.get_variable("kernel", [4, 3])
            b = v1.get_variable("bias", [3], initializer=v1.zeros_initializer())
        h = tf.nn.relu(tf.matmul(x, w) + b)
        steps = v1.get_variable("steps", [], dtype=tf.int64, trainable=False,
                                initializer=v1.zeros_initializer())
        with v1.variable_scope("out"):
            w2 = v1.get_variable("kernel", [3, 2])
        return tf.matmul(h, w2), steps


class Shim(keras.layers.Layer):
    @tf1kit.track_tf1_style_variables
    def call(self, x):
        return forward(x)[0]


X = np.random.RandomState(0).randn(5, 4).astype(np.float32)


@pytest.fixture(scope="module")
def tf1_checkpoint(tmp_path_factory):
    """Trains a TF1 graph for a few steps with Adam and saves it with Saver."""
    directory = tmp_path_factory.mktemp("tf1")
    graph = tf.Graph()
    with graph.as_default():
        x = v1.placeholder(tf.float32, [None, 4])
        out, steps = forward(x)
        global_step = v1.train.get_or_create_global_step()
        train = v1.train.AdamOptimizer(0.1).minimize(tf.reduce_sum(out ** 2), global_step=global_step)
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            for _ in range(3):
                sess.run(train, {x: X})
            sess.run(v1.assign(steps, 3))
            expected = sess.run(out, {x: X})
            prefix = v1.train.Saver().save(sess, str(directory / "model.ckpt"), global_step=3)
    return prefix, expected


def test_loads_saver_checkpoint_by_tf1_name(tf1_checkpoint):
    prefix, expected = tf1_checkpoint
    layer = Shim()
    layer(X)
    report = tf1kit.load_tf1_checkpoint(layer, prefix)
    assert report.assigned and report.complete
    assert report.loaded == ["model/hidden/bias", "model/hidden/kernel", "model/out/kernel", "model/steps"]
    assert "global_step" in report.ignored and any("/Adam" in n for n in report.ignored)
    np.testing.assert_allclose(layer(X).numpy(), expected, rtol=1e-6)


def test_directory_resolves_to_latest_checkpoint(tf1_checkpoint):
    prefix, expected = tf1_checkpoint
    layer = Shim()
    layer(X)
    report = tf1kit.load_tf1_checkpoint(layer, prefix.rsplit("/", 1)[0])
    assert report.path == prefix


def test_mismatch_assigns_nothing_unless_partial(tf1_checkpoint):
    prefix, expected = tf1_checkpoint

    class Renamed(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x):
            with v1.variable_scope("model"):
                with v1.variable_scope("hidden"):
                    w = v1.get_variable("kernel", [4, 3])
                    b = v1.get_variable("bias", [5], initializer=v1.zeros_initializer())
                return tf.matmul(x, w) * v1.get_variable("extra", [])

    layer = Renamed()
    layer(X)
    before = {v.name: v.numpy().copy() for v in layer.weights}
    with pytest.warns(UserWarning, match="nothing assigned"):
        report = tf1kit.load_tf1_checkpoint(layer, prefix)
    assert not report.assigned and report.loaded == []
    assert report.missing == ["model/extra"]
    assert report.shape_mismatches == [("model/hidden/bias", (5,), (3,))]
    assert "model/out/kernel" in report.unexpected
    for v in layer.weights:
        np.testing.assert_array_equal(v.numpy(), before[v.name])
    partial = tf1kit.load_tf1_checkpoint(layer, prefix, partial=True)
    assert partial.loaded == ["model/hidden/kernel"]


def test_name_map_follows_renamed_variables(tf1_checkpoint):
    prefix, expected = tf1_checkpoint

    class Migrated(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x):
            with v1.variable_scope("net"):
                return forward(x)[0]

    layer = Migrated()
    layer(X)
    report = tf1kit.load_tf1_checkpoint(layer, prefix, name_map=lambda name: "net/" + name)
    assert report.complete
    np.testing.assert_allclose(layer(X).numpy(), expected, rtol=1e-6)


def test_tf_module_owner(tf1_checkpoint):
    prefix, expected = tf1_checkpoint

    class Module(tf.Module):
        @tf1kit.track_tf1_style_variables
        def __call__(self, x):
            return forward(x)[0]

    module = Module()
    module(X)
    assert tf1kit.load_tf1_checkpoint(module, prefix).complete
    np.testing.assert_allclose(module(X).numpy(), expected, rtol=1e-6)


def test_bad_inputs_name_what_is_wrong(tmp_path):
    layer = Shim()
    with pytest.raises(ValueError, match="no TF1-style variables yet"):
        tf1kit.load_tf1_checkpoint(layer, str(tmp_path))
    layer(X)
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "nope.ckpt")):
        tf1kit.load_tf1_checkpoint(layer, str(tmp_path / "nope.ckpt"))
    with pytest.raises(FileNotFoundError, match="no checkpoint found in directory"):
        tf1kit.load_tf1_checkpoint(layer, str(tmp_path))
    with pytest.raises(TypeError, match="expected a Keras layer/model or tf.Module"):
        tf1kit.load_tf1_checkpoint(object(), str(tmp_path))


# -- all-or-nothing: damaged files, path forms, collisions, interrupts --------

def fresh_shim():
    layer = Shim()
    layer(X)
    return layer, {v.path: v.numpy().copy() for v in layer.weights}


def assert_unchanged(layer, before):
    for v in layer.weights:
        np.testing.assert_array_equal(v.numpy(), before[v.path], err_msg=v.path)


def copy_checkpoint(prefix, directory):
    """The prefix's files, copied to `directory`; returns the new prefix."""
    import shutil

    for file in glob.glob(prefix + ".*"):
        shutil.copy(file, directory)
    return str(directory / os.path.basename(prefix))


def data_file(prefix):
    (found,) = glob.glob(prefix + ".data-*")
    return found


def test_every_path_form_resolves_to_the_prefix(tf1_checkpoint, tmp_path):
    prefix, expected = tf1_checkpoint
    copied = copy_checkpoint(prefix, tmp_path)  # no `checkpoint` state file here
    for path in [prefix, prefix + ".index", data_file(prefix), os.path.dirname(prefix),
                 copied + ".index", str(tmp_path)]:
        layer, _ = fresh_shim()
        report = tf1kit.load_tf1_checkpoint(layer, path)
        assert report.assigned and report.path in (prefix, copied), path
        np.testing.assert_allclose(layer(X).numpy(), expected, rtol=1e-6)


def test_directory_with_two_checkpoints_and_no_state_file_lists_them(tf1_checkpoint, tmp_path):
    prefix, _ = tf1_checkpoint
    copy_checkpoint(prefix, tmp_path)
    for file in glob.glob(str(tmp_path / "*")):
        os.link(file, file.replace("model.ckpt-3", "other.ckpt-1"))
    layer, before = fresh_shim()
    with pytest.raises(FileNotFoundError, match="several checkpoints.*other.ckpt-1"):
        tf1kit.load_tf1_checkpoint(layer, str(tmp_path))
    assert_unchanged(layer, before)


def test_data_file_cut_in_half_assigns_nothing_and_names_file_and_variable(
        tf1_checkpoint, tmp_path):
    prefix = copy_checkpoint(tf1_checkpoint[0], tmp_path)
    data = data_file(prefix)
    with open(data, "r+b") as f:
        f.truncate(os.path.getsize(data) // 2)
    layer, before = fresh_shim()
    with pytest.raises(CheckpointReadError) as raised:
        tf1kit.load_tf1_checkpoint(layer, prefix)
    message = str(raised.value)
    assert data in message and "Nothing was assigned" in message
    assert re.search(r"cannot read 'model/[a-z/]+' \(for the model variable", message)
    assert_unchanged(layer, before)


def test_one_flipped_byte_assigns_nothing_and_names_file_and_variable(tf1_checkpoint, tmp_path):
    """The byte sits in `model/out/kernel`, read after two variables that
    an assign-as-you-read loader would already have overwritten."""
    original, _ = tf1_checkpoint
    prefix = copy_checkpoint(original, tmp_path)
    kernel = tf.train.load_checkpoint(original).get_tensor("model/out/kernel")
    raw = bytearray(open(data_file(prefix), "rb").read())
    offset = raw.find(kernel.tobytes())
    assert offset >= 0 and sorted(tf.train.load_checkpoint(original).get_variable_to_shape_map()
                                  ).index("model/out/kernel") > 0
    raw[offset + 5] ^= 0xFF
    open(data_file(prefix), "wb").write(bytes(raw))
    layer, before = fresh_shim()
    with pytest.raises(CheckpointReadError,
                       match=r"cannot read 'model/out/kernel' \(for the model variable "
                             r"'model/out/kernel'\) from " + re.escape(data_file(prefix))):
        tf1kit.load_tf1_checkpoint(layer, prefix)
    assert_unchanged(layer, before)


def test_broken_index_names_the_index_file(tf1_checkpoint, tmp_path):
    prefix = copy_checkpoint(tf1_checkpoint[0], tmp_path)
    with open(prefix + ".index", "r+b") as f:
        f.seek(-8, os.SEEK_END)
        f.write(b"\0" * 8)  # the table's magic number
    layer, before = fresh_shim()
    with pytest.raises(CheckpointReadError, match=re.escape(prefix + ".index")):
        tf1kit.load_tf1_checkpoint(layer, prefix)
    assert_unchanged(layer, before)


def test_name_map_collision_names_both_keys(tf1_checkpoint):
    prefix, _ = tf1_checkpoint
    layer, before = fresh_shim()
    collide = {"model/hidden/kernel": "model/out/kernel"}
    with pytest.raises(ValueError, match=r"both 'model/hidden/kernel' and 'model/out/kernel'"
                                         r".*'model/out/kernel'"):
        tf1kit.load_tf1_checkpoint(layer, prefix, name_map=collide, partial=True)
    assert_unchanged(layer, before)


def test_dtype_mismatch_assigns_nothing_unless_partial(tf1_checkpoint):
    prefix, _ = tf1_checkpoint

    class Int32Steps(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x):
            with v1.variable_scope("model"):
                with v1.variable_scope("hidden"):
                    w = v1.get_variable("kernel", [4, 3])
                v1.get_variable("steps", [], dtype=tf.int32, initializer=v1.zeros_initializer())
                return tf.matmul(x, w)

    layer = Int32Steps()
    layer(X)
    before = {v.path: v.numpy().copy() for v in layer.weights}
    with pytest.warns(UserWarning, match="dtype mismatch"):
        report = tf1kit.load_tf1_checkpoint(layer, prefix)
    assert report.dtype_mismatches == [("model/steps", "int32", "int64")]
    assert not report.assigned
    assert_unchanged(layer, before)
    assert tf1kit.load_tf1_checkpoint(layer, prefix, partial=True).loaded == ["model/hidden/kernel"]


@pytest.mark.parametrize("within", [None, "_assign_all"], ids=["tf1kit_frames", "assignment"])
def test_interrupt_at_any_point_of_loading_assigns_all_or_nothing(tf1_checkpoint, within):
    """Every event of tf1kit's frames; then also just before and after each
    step of the assignment (Keras' `assign` included)."""
    prefix, expected = tf1_checkpoint
    reader = tf.train.load_checkpoint(prefix)
    layer, before = fresh_shim()
    counter = interrupt_at(0, within=within)
    with counter:
        tf1kit.load_tf1_checkpoint(layer, prefix)
    assert counter.events > (20 if within is None else 8)
    for k in range(1, counter.events + 1):
        for v, value in zip(layer.weights, before.values()):
            v.assign(value)
        injector = interrupt_at(k, within=within)
        try:
            with injector:
                tf1kit.load_tf1_checkpoint(layer, prefix)
        except BaseException as exc:  # noqa: BLE001 - checked below
            # An interrupt inside a Python callback of TF's C code may surface
            # as a SystemError without the KeyboardInterrupt attached.
            assert injector.fired, f"k={k}: {exc!r}"
        now = {v.path: v.numpy() for v in layer.weights}
        loaded = all(np.array_equal(now[name], reader.get_tensor(name)) for name in now)
        untouched = all(np.array_equal(now[name], before[name]) for name in now)
        assert loaded or untouched, f"k={k}: half loaded"


# -- optimizer slots named <variable>/<slot> ---------------------------------

class SlotNamedAdamWeightDecay:
    """A TF1 graph optimizer (Adam with decoupled weight decay) whose slots are
    named `<variable>/adam_m` and `<variable>/adam_v`, the names BERT's
    fine-tuning optimizer gives them; no `beta_power` variables."""

    def __init__(self, learning_rate, weight_decay=0.01, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-6):
        self.learning_rate, self.weight_decay = learning_rate, weight_decay
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def minimize(self, loss, global_step):
        variables = v1.trainable_variables()
        updates = [global_step.assign_add(1)]
        for variable, grad in zip(variables, tf.gradients(loss, variables)):
            slots = [v1.get_variable(f"{variable.op.name}/{slot}", variable.shape,
                                     trainable=False, initializer=v1.zeros_initializer())
                     for slot in ("adam_m", "adam_v")]
            m = self.beta_1 * slots[0] + (1 - self.beta_1) * grad
            v = self.beta_2 * slots[1] + (1 - self.beta_2) * tf.square(grad)
            step = m / (tf.sqrt(v) + self.epsilon) + self.weight_decay * variable
            updates += [variable.assign_sub(self.learning_rate * step),
                        slots[0].assign(m), slots[1].assign(v)]
        return tf.group(*updates)


@pytest.fixture(scope="module")
def slot_named_checkpoint(tmp_path_factory):
    directory = tmp_path_factory.mktemp("bert_style")
    graph = tf.Graph()
    with graph.as_default():
        x = v1.placeholder(tf.float32, [None, 4])
        out, _ = forward(x)
        train = SlotNamedAdamWeightDecay(0.05).minimize(
            tf.reduce_sum(out ** 2), v1.train.get_or_create_global_step())
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            for _ in range(3):
                sess.run(train, {x: X})
            expected = sess.run(out, {x: X})
            prefix = v1.train.Saver().save(sess, str(directory / "model.ckpt"))
    return prefix, expected


def test_slot_named_optimizer_checkpoint_loads_by_default(slot_named_checkpoint):
    prefix, expected = slot_named_checkpoint
    slots = sorted(f"{name}/{slot}" for name in
                   ("model/hidden/bias", "model/hidden/kernel", "model/out/kernel")
                   for slot in ("adam_m", "adam_v"))
    assert set(slots) <= set(tf.train.load_checkpoint(prefix).get_variable_to_shape_map())
    layer = Shim()
    layer(X)
    report = tf1kit.load_tf1_checkpoint(layer, prefix)
    assert report.assigned and report.complete and report.unexpected == []
    assert report.ignored == sorted(slots + ["global_step"])
    np.testing.assert_allclose(layer(X).numpy(), expected, rtol=1e-6)


def test_slots_of_variables_the_model_lacks_are_ignored_by_name(slot_named_checkpoint):
    """A model that migrated only part of the network: the slots of the
    variables it lacks are still recognized as optimizer slots by their names."""
    prefix, _ = slot_named_checkpoint

    class HiddenOnly(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x):
            with v1.variable_scope("model"), v1.variable_scope("hidden"):
                w, b = v1.get_variable("kernel", [4, 3]), v1.get_variable("bias", [3])
                return tf.matmul(x, w) + b

    layer = HiddenOnly()
    layer(X)
    report = tf1kit.load_tf1_checkpoint(layer, prefix, partial=True)
    assert report.unexpected == ["model/out/kernel", "model/steps"]
    assert {"model/out/kernel/adam_m", "model/out/kernel/adam_v"} <= set(report.ignored)
    assert report.loaded == ["model/hidden/bias", "model/hidden/kernel"]


def test_any_slot_below_a_model_variable_is_ignored_without_patterns(slot_named_checkpoint):
    """`<model variable>/<anything>` is a slot even for an optimizer no
    pattern knows; a key below no model variable stays unexpected."""
    prefix, _ = slot_named_checkpoint
    layer = Shim()
    layer(X)
    with pytest.warns(UserWarning, match="not in the model: global_step"):
        report = tf1kit.load_tf1_checkpoint(layer, prefix, ignore=())
    assert report.unexpected == ["global_step"]
    assert len(report.ignored) == 6 and all(k.endswith(("/adam_m", "/adam_v"))
                                            for k in report.ignored)


# -- native Keras weights, keyed by their path --------------------------------

NATIVE_NAMES = {"model/hidden/kernel": "hidden/kernel", "model/hidden/bias": "hidden/bias",
                "model/out/kernel": "out/kernel"}
SKIP_STEPS = DEFAULT_IGNORED + (r"^model/steps$",)


def native_rewrite():
    """The TF1 forward pass as native Keras 3 layers (what to_keras would write)."""
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(3, "relu", name="hidden")(inputs)
    return keras.Model(inputs, keras.layers.Dense(2, use_bias=False, name="out")(hidden))


def test_a_native_model_loads_by_weight_path_through_name_map(tf1_checkpoint):
    prefix, expected = tf1_checkpoint
    model = native_rewrite()
    before = [w.numpy().copy() for w in model.weights]
    with pytest.warns(UserWarning, match="missing from checkpoint: hidden/bias, hidden/kernel"):
        unmapped = tf1kit.load_tf1_checkpoint(model, prefix, ignore=SKIP_STEPS)
    assert not unmapped.assigned and "model/out/kernel" in unmapped.unexpected
    for weight, value in zip(model.weights, before):
        np.testing.assert_array_equal(weight.numpy(), value)
    report = tf1kit.load_tf1_checkpoint(model, prefix, name_map=NATIVE_NAMES, ignore=SKIP_STEPS)
    assert report.complete and report.loaded == sorted(NATIVE_NAMES.values())
    np.testing.assert_allclose(model(X).numpy(), expected, rtol=1e-6)


def test_native_weights_of_a_shim_model_load_only_where_name_map_sends_keys(tf1_checkpoint):
    """A half-migrated model: TF1 variables by name, its native head by path."""
    prefix, expected = tf1_checkpoint

    class HalfMigrated(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x):
            with v1.variable_scope("model"):
                with v1.variable_scope("hidden"):
                    w = v1.get_variable("kernel", [4, 3])
                    b = v1.get_variable("bias", [3], initializer=v1.zeros_initializer())
                v1.get_variable("steps", [], dtype=tf.int64, initializer=v1.zeros_initializer())
            head = tf1kit.get_or_create_layer(
                "out", lambda: keras.layers.Dense(2, use_bias=False, name="out"))
            return head(tf.nn.relu(tf.matmul(x, w) + b))

    layer = HalfMigrated()
    layer(X)
    head_kernel = next(w for w in layer.weights if not hasattr(w, "tf1_name"))
    partial = tf1kit.load_tf1_checkpoint(layer, prefix, partial=True)
    assert partial.unexpected == ["model/out/kernel"] and partial.missing == []
    report = tf1kit.load_tf1_checkpoint(layer, prefix,
                                        name_map={"model/out/kernel": head_kernel.path})
    assert report.complete and head_kernel.path in report.loaded
    np.testing.assert_allclose(layer(X).numpy(), expected, rtol=1e-6)
