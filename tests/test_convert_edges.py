"""`to_keras` beyond the model zoo: owners, inputs, sharing, checkpoints, user state."""

import numpy as np
import pytest
import tensorflow as tf
import keras

import tf1kit
from convert_cases import (
    Shift, SmallConvNet, assert_trains_the_same, batch, converted, raw_zoo_forward)
from tf1kit.layers import base as layers_base

v1 = tf.compat.v1


def test_conversion_leaves_the_layer_as_it_was():
    layer, x = Shift(), batch(2, 3)
    before_output = layer(x).numpy()
    before = [v.numpy().copy() for v in layer.weights]
    result = tf1kit.to_keras(layer, x)
    # The template's cached scope was made in the trace's graph; it is put back,
    # so eager calls still return eager tensors.
    after_output = layer(x)
    assert isinstance(after_output, tf.__internal__.EagerTensor)
    np.testing.assert_array_equal(after_output.numpy(), before_output)
    for value, variable in zip(before, layer.weights):
        np.testing.assert_array_equal(variable.numpy(), value)
    assert layers_base.call_recorders == []
    step1 = converted("lesson7_step1")[0]
    assert "call" not in vars(step1.conv)  # the Keras layer's call was only borrowed
    assert result.complete


def test_a_tf_module_owner_converts_with_its_own_tf_variable():
    class Rescale(tf.Module):
        def __init__(self):
            super().__init__(name="rescale")
            self.factor = tf.Variable(3.0, name="factor")

        @tf1kit.track_tf1_style_variables
        def __call__(self, x):
            with v1.variable_scope("lin"):
                w = v1.get_variable("w", shape=[x.shape[-1], 2],
                                    initializer=v1.ones_initializer(),
                                    regularizer=keras.regularizers.L2(0.01))
            return tf.matmul(x, w) * self.factor

    module, x = Rescale(), batch(2, 2)
    module(x)
    result = tf1kit.to_keras(module, x)
    assert result.complete, result.summary()
    np.testing.assert_allclose(result.model(x), module(x), atol=1e-6)
    assert result.weight_map == {"lin/w": "rescale/lin/kernel", "factor": "rescale/factor"}
    np.testing.assert_allclose(float(tf.add_n(result.model.losses)),
                               float(tf.add_n(module.regularization_losses)), rtol=1e-6)



def test_a_decorated_sub_module_keeps_its_initializer_and_regularizer():
    # The child answers get_variable from its own store; its requests are
    # recorded too, so the native weight gets TF1's initializer and regularizer.
    class Child(tf.Module):
        @tf1kit.track_tf1_style_variables
        def __call__(self, x):
            w = v1.get_variable("w", shape=[x.shape[-1], 2],
                                initializer=v1.constant_initializer(0.25),
                                regularizer=keras.regularizers.L2(0.01))
            return tf.matmul(x, w)

    class Parent(tf.Module):
        def __init__(self):
            super().__init__(name="parent")
            self.child = Child(name="child")

        @tf1kit.track_tf1_style_variables
        def __call__(self, x):
            return self.child(x) * 2.0

    module, x = Parent(), batch(2, 3)
    module(x)
    result = tf1kit.to_keras(module, x)
    assert result.complete, result.summary()
    assert "kernel_initializer=keras.initializers.Constant(value=0.25)" in result.source
    assert "kernel_regularizer=keras.regularizers.L2(l2=0.01)" in result.source
    np.testing.assert_allclose(result.model(x), module(x), atol=1e-6)

def test_several_inputs_and_outputs_keep_their_names_and_order():
    class TwoHeads(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, image, extra):
            with v1.variable_scope("heads"):
                # Two TF1 layer objects, one set of variables: one Keras layer.
                a = v1.layers.dense(image, 4, name="shared", reuse=v1.AUTO_REUSE)
                b = v1.layers.dense(extra, 4, name="shared", reuse=v1.AUTO_REUSE)
                return a - b, tf.concat([a, b], axis=-1)

    layer, inputs = TwoHeads(), (batch(3, 5), batch(3, 5, seed=1))
    layer(*inputs)
    result = tf1kit.to_keras(layer, inputs)
    assert "def call(self, image, extra):" in result.source
    assert result.source.count("keras.layers.Dense(") == 1
    expected, actual = layer(*inputs), result.model(*inputs)
    assert isinstance(actual, tuple) and len(actual) == 2
    for want, got in zip(expected, actual):
        np.testing.assert_allclose(got, want, atol=1e-6)


def test_three_dimensional_pooling_converts_and_trains():
    class Pool3D(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x):
            h = v1.layers.conv3d(x, 2, 2, padding="same")
            h = v1.layers.max_pooling3d(h, 2, 1, padding="same")
            return v1.layers.average_pooling3d(h, 2, 2, data_format="channels_first")

    layer, x = Pool3D(), batch(2, 4, 4, 4, 3)
    layer(x)
    result = tf1kit.to_keras(layer, x)
    assert 'keras.layers.AveragePooling3D(\n' in result.source
    assert 'data_format="channels_first"' in result.source
    assert_trains_the_same(layer, result.model, result.weight_map, x)


def test_converting_twice_writes_the_same_source():
    layer, x = SmallConvNet(3), batch(2, 6, 6, 2)
    layer(x)
    first = tf1kit.to_keras(layer, x)
    second = tf1kit.to_keras(layer, x)
    assert first.source == second.source
    assert first.weight_map == second.weight_map


def test_report_is_the_verify_report_when_verify_is_installed():
    layer, x, result = converted("lesson2_projection")
    try:
        import tf1kit.verify  # noqa: F401
    except ImportError:
        assert result.report is None  # until tf1kit.verify lands
        return
    assert result.report.ok, result.report


def test_training_flag_is_passed_where_tf1_passed_it():
    layer, x, result = converted("lesson3_conv_bn_dropout")
    assert "def call(self, images, training=None):" in result.source
    # A TF1 layer given a constant keeps it: inference-only batch norm stays so.
    class FrozenStats(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x, training=None):
            return v1.layers.batch_normalization(v1.layers.dense(x, 3), training=False)

    frozen, x = FrozenStats(), batch(4, 3)
    frozen(x)
    source = tf1kit.to_keras(frozen, x).source
    assert "self.batch_normalization(x, training=False)" in source


@pytest.fixture(scope="module")
def tf1_saver_checkpoint(tmp_path_factory):
    """The raw zoo's forward pass as TF1 code in a Graph, saved by a TF1 Saver."""
    directory = tmp_path_factory.mktemp("tf1_raw_zoo")
    x = batch(3, 8, 8, 2).numpy()
    with tf.Graph().as_default():
        placeholder = v1.placeholder(tf.float32, [None, 8, 8, 2])
        outputs = raw_zoo_forward(placeholder)
        with v1.Session() as session:
            session.run(v1.global_variables_initializer())
            expected = session.run(outputs, {placeholder: x})
            prefix = v1.train.Saver().save(session, str(directory / "model.ckpt"))
    return prefix, x, expected


def test_tf1_saver_checkpoint_loads_into_the_native_model(tf1_saver_checkpoint):
    prefix, x, expected = tf1_saver_checkpoint
    _, _, result = converted("raw_zoo")
    saved = [w.numpy() for w in result.model.weights]  # the model is shared with other tests
    try:
        report = tf1kit.load_tf1_checkpoint(result.model, prefix, name_map=result.weight_map)
        assert report.complete and report.assigned
        np.testing.assert_allclose(result.model(x), expected, atol=1e-5)
    finally:
        for weight, value in zip(result.model.weights, saved):
            weight.assign(value)


def test_tf1_saver_checkpoint_names_are_the_weight_map_keys(tf1_saver_checkpoint):
    prefix, x, expected = tf1_saver_checkpoint
    layer, _, result = converted("raw_zoo")
    reader = tf.train.load_checkpoint(prefix)
    assert sorted(reader.get_variable_to_shape_map()) == sorted(result.weight_map)
    # Its values, put in by name, give the TF1 graph's outputs.
    native = {v.path: v for v in result.model.weights}
    saved = {name: native[path].numpy() for name, path in result.weight_map.items()}
    try:
        for name, path in result.weight_map.items():
            native[path].assign(reader.get_tensor(name))
        np.testing.assert_allclose(result.model(x), expected, atol=1e-5)
    finally:
        for name, path in result.weight_map.items():
            native[path].assign(saved[name])
    assert_trains_the_same(layer, result.model, result.weight_map, tf.constant(x), steps=1)


def test_a_scope_entered_again_later_merges_into_its_parent():
    # a -> b -> a: as two Keras layers they would call each other back and forth.
    class Reentered(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x):
            with v1.variable_scope("a"):
                h = v1.layers.dense(x, 3, name="first", activation=tf.nn.relu)
            with v1.variable_scope("b"):
                h = v1.layers.dense(h, 3, name="middle") * 2.0
            with v1.variable_scope("a", reuse=v1.AUTO_REUSE):
                return v1.layers.dense(h, 2, name="last")

    layer, x = Reentered(), batch(2, 4)
    layer(x)
    result = tf1kit.to_keras(layer, x)
    assert result.complete, result.summary()
    assert "self.a_first = keras.layers.Dense(" in result.source
    assert "self.a_last = keras.layers.Dense(" in result.source
    assert_trains_the_same(layer, result.model, result.weight_map, x)


def test_a_name_is_not_reassigned_while_an_inlined_expression_still_reads_it():
    # tf.sin(y) is inlined where it is used, after the dense call: the dense
    # output must not take y's name (it did: silently wrong numbers).
    class Pending(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x):
            y = x * 2.0
            pending = tf.sin(y)
            return tf.concat([pending, v1.layers.dense(tf.cos(y), 3)], axis=-1)

    layer, x = Pending(), batch(2, 3)
    layer(x)
    result = tf1kit.to_keras(layer, x)
    assert "return tf.concat([tf.sin(x), dense], axis=-1)" in result.source
    np.testing.assert_allclose(result.model(x), layer(x), atol=1e-6)


class SlowBatchNorms(keras.layers.Layer):
    """inception_v2's decay (0.9997) on large values: TF1's fused path (4-D)
    and its plain one (2-D)."""

    @v1.keras.utils.track_tf1_style_variables
    def call(self, x, training=None):
        fused = v1.layers.batch_normalization(x, momentum=0.9997, training=training,
                                              name="fused")
        plain = v1.layers.batch_normalization(tf.reshape(x, [-1, 3]), momentum=0.9997,
                                              training=training, name="plain")
        return fused + tf.reshape(plain, tf.shape(x))


def test_converted_batch_norms_decay_their_statistics_as_tf1():
    # TF1: fused 1 - float32(0.9997) (float32 arithmetic), plain float32(1 - 0.9997).
    fused_decay = float(np.float32(1.0) - np.float32(0.9997))
    plain_decay = float(np.float32(1.0 - 0.9997))
    values = np.random.RandomState(0).normal(5e3, 180.0, (8, 2, 2, 3)).astype("float32")
    layer, x = SlowBatchNorms(), tf.constant(values)
    layer(x, training=True)
    result = tf1kit.to_keras(layer, x)
    assert "FusedBatchNormalization(" in result.source
    assert "keras.layers.BatchNormalization(" in result.source
    statistics = ["fused/moving_mean", "fused/moving_variance",
                  "plain/moving_mean", "plain/moving_variance"]
    native = {v.path: v for v in result.model.weights}
    before = {name: native[result.weight_map[name]].numpy().astype(np.float64)
              for name in statistics}
    for _ in range(3):
        result.model(x, training=True)
    flat = values.reshape(-1, 3).astype(np.float64)
    batch = {"moving_mean": flat.mean(axis=0), "moving_variance": flat.var(axis=0)}
    for name in statistics:
        kind = name.split("/")[1]
        target = batch[kind] * (32 / 31 if name.startswith("fused") and "variance" in kind else 1)
        decay = fused_decay if name.startswith("fused") else plain_decay
        expected = before[name]
        for _ in range(3):
            expected = expected - (expected - target) * decay
        np.testing.assert_allclose(native[result.weight_map[name]].numpy(), expected,
                                   rtol=1e-6, atol=0, err_msg=name)
    # verify: the TF1 graph, the shim and the native model, three training steps.
    assert result.report.ok, result.report
