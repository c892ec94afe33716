"""Every example of the model-mapping guide's shim sections, on Keras 3.

Written exactly against the official names (`tf.compat.v1.keras.utils.*`,
`tf.compat.v1.layers.*`) after `tf1kit.install()`. Where Keras 3 itself
differs from Keras 2 (native layers' variable names live in `path`), the
assertion says so.
"""

import numpy as np
import pytest
import tensorflow as tf

import tf1kit

tf1kit.install()
v1 = tf.compat.v1
track = v1.keras.utils.track_tf1_style_variables


class DenseLayer(tf.keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    @track
    def call(self, inputs):
        with v1.variable_scope("dense"):
            kernel = v1.get_variable(
                shape=[inputs.shape[-1], self.units], regularizer=tf.keras.regularizers.L2(),
                initializer=v1.initializers.glorot_normal, name="kernel")
            bias = v1.get_variable(shape=[self.units], initializer=v1.initializers.zeros, name="bias")
        return v1.nn.bias_add(tf.linalg.matmul(inputs, kernel), bias)


class CompatV1LayerModel(tf.keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    @track
    def call(self, inputs):
        with v1.variable_scope("model"):
            out = v1.layers.conv2d(inputs, 3, 3, kernel_regularizer="l2")
            out = v1.layers.flatten(out)
            return v1.layers.dense(out, self.units, kernel_regularizer="l2")


def _zero_and_recall(layer, x):
    for var in layer.trainable_variables:
        var.assign(var * 0.0)
    layer(x)
    return [float(l) for l in layer.losses]


@pytest.mark.parametrize("make, shape, regularized", [
    (lambda: DenseLayer(10), (8, 20), ["dense/kernel"]),
    (lambda: CompatV1LayerModel(10), (8, 5, 5, 5), ["model/conv2d/kernel", "model/dense/kernel"]),
])
def test_layer_reuses_weights_and_tracks_losses(make, shape, regularized):
    layer = make()
    x = tf.random.normal(shape=shape)
    layer(x)
    count = len(layer.trainable_variables)
    # Keras' L2() and "l2" both mean 0.01 * sum(w ** 2), once per regularized kernel.
    kernels = {v.path: v.numpy() for v in layer.weights}
    expected = sorted(0.01 * float(np.sum(kernels[name].astype(np.float64) ** 2))
                      for name in regularized)
    assert sorted(float(l) for l in layer.losses) == pytest.approx(expected, rel=1e-5)
    assert _zero_and_recall(layer, x) == [0.0] * len(regularized)
    assert len(layer.trainable_variables) == count
    assert np.all(layer(x).numpy() == 0)


def test_dense_layer_names_and_functional_model():
    inputs = tf.keras.Input(shape=(20,))
    model = tf.keras.Model(inputs=inputs, outputs=DenseLayer(10)(inputs))
    assert model(tf.random.normal(shape=(8, 20))).shape == (8, 10)
    assert [w.name for w in model.weights] == ["dense/kernel:0", "dense/bias:0"]
    assert len(model.losses) == 1


def test_compat_layers_model_names_and_functional_model():
    inputs = tf.keras.Input(shape=(5, 5, 5))
    model = tf.keras.Model(inputs=inputs, outputs=CompatV1LayerModel(10)(inputs))
    assert model(tf.random.normal(shape=(8, 5, 5, 5))).shape == (8, 10)
    assert sorted(w.name for w in model.weights) == [
        "model/conv2d/bias:0", "model/conv2d/kernel:0", "model/dense/bias:0", "model/dense/kernel:0"]
    assert len(model.losses) == 2


class CompatV1BatchNorm(tf.keras.layers.Layer):
    @track
    def call(self, inputs, training=None):
        self.last_training = training
        with v1.variable_scope("batch_norm_layer"):
            return v1.layers.batch_normalization(inputs, training=training)


def test_batch_norm_updates_moving_averages_only_in_training():
    inputs = tf.keras.Input(shape=(5, 5, 5))
    layer = CompatV1BatchNorm()
    model = tf.keras.Model(inputs=inputs, outputs=layer(inputs))
    x = tf.random.normal(shape=(8, 5, 5, 5))
    model(x, training=False)
    assert layer.last_training is False
    moving = {v.name: v.numpy().copy() for v in model.non_trainable_variables}
    assert sorted(moving) == ["batch_norm_layer/batch_normalization/moving_mean:0",
                              "batch_norm_layer/batch_normalization/moving_variance:0"]
    model(x, training=True)
    assert layer.last_training is True
    for v in model.non_trainable_variables:
        assert not np.allclose(v.numpy(), moving[v.name]), v.name


class NestedModel(tf.keras.Model):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build_model(self):
        # The guide declares shape=(5, 5) and feeds (5, 5): Keras 2 let the
        # missing batch axis pass, Keras 3 checks it.
        inp = tf.keras.Input(shape=(5,))
        dense_layer = tf.keras.layers.Dense(
            10, name="dense", kernel_regularizer="l2", kernel_initializer=v1.ones_initializer())
        return tf.keras.Model(inputs=inp, outputs=dense_layer(inp))

    @track
    def call(self, inputs):
        return v1.keras.utils.get_or_create_layer("dense_model", self.build_model)(inputs)


def test_get_or_create_layer_tracks_nested_model():
    layer = NestedModel(10)
    layer(tf.ones(shape=(5, 5)))
    layer(tf.ones(shape=(5, 5)))
    assert len(layer.weights) == 2
    # Keras 3 keeps a native layer's scoped name in `path` ("kernel" is its name).
    assert {w.path for w in layer.weights} == {"dense/bias", "dense/kernel"}
    assert float(tf.add_n(layer.losses)) == pytest.approx(0.01 * 5 * 10)


class NestedLayer(tf.keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    @track
    def __call__(self, inputs):
        with v1.variable_scope("inner_dense"):
            kernel = v1.get_variable(
                shape=[inputs.shape[-1], self.units], regularizer=tf.keras.regularizers.L2(),
                initializer=v1.initializers.glorot_normal, name="kernel")
            bias = v1.get_variable(shape=[self.units], initializer=v1.initializers.zeros, name="bias")
        return v1.nn.bias_add(tf.linalg.matmul(inputs, kernel), bias)


class WrappedDenseLayer(tf.keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self._dense_layer = NestedLayer(units)

    @track
    def call(self, inputs):
        with v1.variable_scope("outer"):
            v1.layers.dense(inputs, 3)
            outputs = v1.layers.dense(inputs, 4)
            return self._dense_layer(outputs)


def test_nested_decorated_layers_share_the_outer_scope():
    layer = WrappedDenseLayer(10)
    layer(tf.ones(shape=(5, 5)))
    layer(tf.ones(shape=(5, 5)))
    assert len(layer.weights) == 6
    assert {w.name for w in layer.variables} == {
        "outer/inner_dense/bias:0", "outer/inner_dense/kernel:0", "outer/dense/bias:0",
        "outer/dense/kernel:0", "outer/dense_1/bias:0", "outer/dense_1/kernel:0"}
    assert len(layer.losses) == 1


class CompatV1TemplateScaleByY(tf.keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)

        def my_op(x, scalar_name):
            var1 = v1.get_variable(scalar_name, shape=[], regularizer=tf.keras.regularizers.L2(),
                                   initializer=v1.constant_initializer(1.5))
            return x * var1

        self.scale_by_y = v1.make_template("scale_by_y", my_op, scalar_name="y")

    @track
    def call(self, inputs):
        with v1.variable_scope("layer"):
            return self.scale_by_y(inputs)


def test_make_template_in_a_decorated_call():
    layer = CompatV1TemplateScaleByY()
    out = layer(tf.ones(shape=(2, 3)))
    layer(tf.ones(shape=(2, 3)))
    assert [w.name for w in layer.weights] == ["layer/scale_by_y/y:0"]
    assert float(layer.losses[0]) == pytest.approx(0.01 * 1.5 ** 2)
    np.testing.assert_allclose(out.numpy(), 1.5)


# -- Incremental migration to native Keras 3, checked with the determinism tool --

class CompatModel(tf.keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    @track
    def call(self, inputs, training=None):
        with v1.variable_scope("model"):
            out = v1.layers.conv2d(inputs, 3, 3, kernel_regularizer="l2")
            out = v1.layers.flatten(out)
            out = v1.layers.dropout(out, training=training)
            return v1.layers.dense(out, self.units, kernel_regularizer="l2")


class PartiallyMigratedModel(tf.keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.conv_layer = tf.keras.layers.Conv2D(3, 3, kernel_regularizer="l2")

    @track
    def call(self, inputs, training=None):
        with v1.variable_scope("model"):
            out = self.conv_layer(inputs)
            out = v1.layers.flatten(out)
            out = v1.layers.dropout(out, training=training)
            return v1.layers.dense(out, self.units, kernel_regularizer="l2")


class NearlyFullyNativeModel(tf.keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.conv_layer = tf.keras.layers.Conv2D(3, 3, kernel_regularizer="l2")
        self.flatten_layer = tf.keras.layers.Flatten()
        self.dense_layer = tf.keras.layers.Dense(units, kernel_regularizer="l2")

    @track
    def call(self, inputs):
        with v1.variable_scope("model"):
            return self.dense_layer(self.flatten_layer(self.conv_layer(inputs)))


class FullyNativeModel(tf.keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.conv_layer = tf.keras.layers.Conv2D(3, 3, kernel_regularizer="l2")
        self.flatten_layer = tf.keras.layers.Flatten()
        self.dense_layer = tf.keras.layers.Dense(units, kernel_regularizer="l2")

    def call(self, inputs):
        return self.dense_layer(self.flatten_layer(self.conv_layer(inputs)))


def _run_under_tool(model_class):
    random_tool = v1.keras.utils.DeterministicRandomTestTool(mode="num_random_ops")
    with random_tool.scope():
        tf.keras.utils.set_random_seed(42)
        layer = model_class(10)
        inputs = tf.random.normal(shape=(10, 5, 5, 5))
        output = layer(inputs)
        return output.numpy(), float(tf.math.add_n(layer.losses))


def test_incremental_migration_keeps_outputs_and_losses():
    original_output, original_loss = _run_under_tool(CompatModel)
    for migrated in (PartiallyMigratedModel, NearlyFullyNativeModel, FullyNativeModel):
        output, loss = _run_under_tool(migrated)
        np.testing.assert_allclose(loss, original_loss, rtol=1e-6, err_msg=migrated.__name__)
        np.testing.assert_allclose(output, original_output, rtol=1e-5, atol=1e-6,
                                   err_msg=migrated.__name__)


# -- Keeping checkpoint compatibility while migrating --

class FunctionalStyleCompatModel(tf.keras.layers.Layer):
    @track
    def call(self, inputs, training=None):
        with v1.variable_scope("model"):
            out = v1.layers.conv2d(inputs, 3, 3, kernel_regularizer="l2")
            out = v1.layers.conv2d(out, 4, 4, kernel_regularizer="l2")
            return v1.layers.conv2d(out, 5, 5, kernel_regularizer="l2")


class OOStyleCompatModel(tf.keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.conv_1 = v1.layers.Conv2D(3, 3, kernel_regularizer="l2")
        self.conv_2 = v1.layers.Conv2D(4, 4, kernel_regularizer="l2")

    @track
    def call(self, inputs, training=None):
        with v1.variable_scope("model"):
            out = self.conv_2(self.conv_1(inputs))
            return v1.layers.conv2d(out, 5, 5, kernel_regularizer="l2")


def record_scope(scope_name):
    with v1.variable_scope(scope_name):
        pass


class PartiallyNativeKerasLayersModel(tf.keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.conv_1 = tf.keras.layers.Conv2D(3, 3, kernel_regularizer="l2")
        self.conv_2 = tf.keras.layers.Conv2D(4, 4, kernel_regularizer="l2")

    @track
    def call(self, inputs, training=None):
        with v1.variable_scope("model"):
            out = self.conv_1(inputs)
            record_scope("conv2d")
            out = self.conv_2(out)
            record_scope("conv2d_1")
            return v1.layers.conv2d(out, 5, 5, kernel_regularizer="l2")


TF1_CONV_NAMES = sorted(f"model/conv2d{suffix}/{kind}:0"
                        for suffix in ("", "_1", "_2") for kind in ("kernel", "bias"))


def test_functional_and_object_style_layers_give_the_same_names():
    functional = FunctionalStyleCompatModel()
    functional(tf.ones(shape=(10, 10, 10, 10)))
    assert sorted(v.name for v in functional.weights) == TF1_CONV_NAMES
    oo = OOStyleCompatModel()
    oo(tf.ones(shape=(10, 10, 10, 10)))
    assert sorted(v.name for v in oo.weights) == TF1_CONV_NAMES
    weights = {v.name: v for v in oo.weights}
    assert weights["model/conv2d/kernel:0"] is oo.conv_1.kernel
    assert weights["model/conv2d_1/bias:0"] is oo.conv_2.bias
    assert len(oo.losses) == 3, "object-style layers' losses are counted once"


def test_recorded_scopes_keep_remaining_tf1_names():
    layer = PartiallyNativeKerasLayersModel()
    layer(tf.ones(shape=(10, 10, 10, 10)))
    names = {v.name for v in layer.weights}
    assert {"model/conv2d_2/kernel:0", "model/conv2d_2/bias:0"} <= names
    assert len(layer.weights) == 6
