"""Shim layers as first-class Keras 3 citizens: models, training, saving, distribution."""

import numpy as np
import pytest
import tensorflow as tf
import keras

import tf1kit

v1 = tf.compat.v1


@keras.saving.register_keras_serializable(package="tf1kit_tests")
class ShimDense(keras.layers.Layer):
    """A TF1-style dense layer with a batch-norm style moving average."""

    def __init__(self, units=3, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    @tf1kit.track_tf1_style_variables
    def call(self, inputs, training=None):
        with v1.variable_scope("shim"):
            kernel = v1.get_variable(
                "kernel", [inputs.shape[-1], self.units],
                initializer=v1.constant_initializer(0.1),
                regularizer=lambda w: 0.01 * tf.reduce_sum(tf.square(w)))
            bias = v1.get_variable("bias", [self.units], initializer=v1.zeros_initializer())
            moving = v1.get_variable(
                "moving_mean", [self.units], initializer=v1.zeros_initializer(),
                trainable=False, synchronization=tf.VariableSynchronization.ON_READ,
                aggregation=tf.VariableAggregation.MEAN)
        out = tf.matmul(inputs, kernel) + bias
        if training:
            moving.assign(0.9 * moving + 0.1 * tf.reduce_mean(out, axis=0))
        self.seen_training = training
        return out

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def functional_model(units=3):
    inputs = keras.Input(shape=(4,))
    return keras.Model(inputs, ShimDense(units, name="shim_dense")(inputs))


DATA = (np.ones((8, 4), np.float32), np.zeros((8, 3), np.float32))


def test_functional_model_creates_variables_at_construction():
    model = functional_model()
    assert sorted(v.name for v in model.weights) == [
        "shim/bias:0", "shim/kernel:0", "shim/moving_mean:0"]
    assert [v.name for v in model.non_trainable_weights] == ["shim/moving_mean:0"]
    assert len(model.losses) == 1


def test_sequential_model_and_summary(capsys):
    model = keras.Sequential([keras.Input(shape=(4,)), ShimDense(2), keras.layers.Dense(1)])
    model.summary()
    assert "shim_dense" in capsys.readouterr().out
    assert model.count_params() == 4 * 2 + 2 + 2 + 2 + 1


def test_fit_evaluate_predict_train_the_shim_variables():
    model = functional_model()
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    kernel = next(v for v in model.weights if v.name == "shim/kernel:0")
    before = kernel.numpy().copy()
    history = model.fit(*DATA, epochs=3, batch_size=4, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert not np.allclose(kernel.numpy(), before)
    moving = next(v for v in model.weights if v.name == "shim/moving_mean:0")
    assert np.abs(moving.numpy()).sum() > 0, "training=True must reach the decorated call"
    assert np.isfinite(model.evaluate(*DATA, verbose=0))
    assert model.predict(DATA[0], verbose=0).shape == (8, 3)


def test_training_argument_reaches_decorated_call():
    layer = ShimDense()
    model = keras.Sequential([keras.Input(shape=(4,)), layer])
    model(DATA[0], training=True)
    assert layer.seen_training is True
    model(DATA[0], training=False)
    assert layer.seen_training is False


def test_regularization_losses_are_live():
    layer = ShimDense()
    layer(DATA[0])
    assert float(layer.losses[0]) == pytest.approx(0.01 * 12 * 0.01)
    for variable in layer.trainable_weights:
        variable.assign(tf.zeros_like(variable))
    assert float(layer.losses[0]) == 0.0


def test_tf_function_reuses_variables_across_retraces():
    layer = ShimDense()
    call = tf.function(layer)
    call(tf.ones([2, 4]))
    call(tf.ones([5, 4]))  # new shape: retrace
    assert len(layer.weights) == 3


def test_tf_train_checkpoint_round_trip(tmp_path):
    layer = ShimDense()
    layer(DATA[0])
    for variable in layer.weights:
        variable.assign(tf.fill(variable.shape, 7.0))
    path = tf.train.Checkpoint(layer=layer).save(str(tmp_path / "ckpt"))
    restored = ShimDense()
    restored(DATA[0])
    tf.train.Checkpoint(layer=restored).restore(path).assert_consumed()
    for variable in restored.weights:
        np.testing.assert_allclose(variable.numpy(), 7.0)


def test_saved_model_save_and_reload(tmp_path):
    model = functional_model()
    expected = model(DATA[0]).numpy()
    tf.saved_model.save(model, str(tmp_path / "saved"))
    reloaded = tf.saved_model.load(str(tmp_path / "saved"))
    serve = reloaded.signatures["serving_default"]
    (output,) = serve(tf.constant(DATA[0])).values()
    np.testing.assert_allclose(output.numpy(), expected, rtol=1e-6)
    keys = [name for name, _ in tf.train.list_variables(str(tmp_path / "saved" / "variables" / "variables"))]
    assert any("_tf1_style_var_store/_vars/shim.Skernel" in key for key in keys), keys


def test_keras_export_archive(tmp_path):
    model = functional_model()
    expected = model(DATA[0]).numpy()
    model.export(str(tmp_path / "exported"), verbose=False)
    reloaded = tf.saved_model.load(str(tmp_path / "exported"))
    np.testing.assert_allclose(reloaded.serve(tf.constant(DATA[0])).numpy(), expected, rtol=1e-6)


def test_keras_file_round_trip(tmp_path):
    model = functional_model()
    model.compile(optimizer="sgd", loss="mse")
    model.fit(*DATA, epochs=1, verbose=0)
    expected = model.predict(DATA[0], verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict(DATA[0], verbose=0), expected, rtol=1e-6)
    assert sorted(v.name for v in loaded.weights) == sorted(v.name for v in model.weights)


def test_mirrored_strategy_trains_with_non_trainable_on_read_variables():
    devices = tf.config.list_logical_devices("CPU")
    assert len(devices) >= 2, "conftest must split the CPU into two logical devices"
    strategy = tf.distribute.MirroredStrategy([d.name for d in devices[:2]])
    with strategy.scope():
        model = functional_model()
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    kernel = next(v for v in model.weights if v.name == "shim/kernel:0")
    assert isinstance(kernel.value, tf.distribute.DistributedValues)
    before = kernel.numpy().copy()
    model.fit(*DATA, epochs=2, batch_size=8, verbose=0)
    assert not np.allclose(kernel.numpy(), before)
    moving = next(v for v in model.weights if v.name == "shim/moving_mean:0")
    assert np.abs(moving.numpy()).sum() > 0


def _one_distributed_step(strategy, layer):
    """One custom-loop SGD step under `strategy`; returns the layer's bias."""
    with strategy.scope():
        layer(tf.ones([1, 4]))
        optimizer = keras.optimizers.SGD(0.5)

    @tf.function
    def step(x):
        def replica_step(x):
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(layer(x, training=True)) + tf.add_n(layer.losses)
            grads = tape.gradient(loss, layer.trainable_weights)
            optimizer.apply_gradients(zip(grads, layer.trainable_weights))
            return loss
        return strategy.run(replica_step, args=(x,))

    step(tf.ones([4, 4]))
    return next(v for v in layer.trainable_weights if "bias" in v.path).numpy()


def test_mirrored_custom_loop_matches_native_keras():
    devices = [d.name for d in tf.config.list_logical_devices("CPU")[:2]]
    strategy = tf.distribute.MirroredStrategy(devices)
    with strategy.scope():
        shim = ShimDense()
        native = keras.layers.Dense(
            3, kernel_initializer=keras.initializers.Constant(0.1),
            kernel_regularizer=lambda w: 0.01 * tf.reduce_sum(tf.square(w)))
    np.testing.assert_allclose(
        _one_distributed_step(strategy, shim), _one_distributed_step(strategy, native), rtol=1e-6)
    assert len(shim.weights) == 3


def test_keyboard_interrupt_mid_call_leaves_layer_usable():
    class Interrupted(keras.layers.Layer):
        interrupt = True

        @tf1kit.track_tf1_style_variables
        def call(self, x):
            a = v1.get_variable("a", [], initializer=v1.ones_initializer())
            if self.interrupt:
                raise KeyboardInterrupt
            b = v1.get_variable("b", [], initializer=v1.ones_initializer())
            return x * a * b

    layer = Interrupted()
    with pytest.raises(KeyboardInterrupt):
        layer(tf.ones([1]))
    assert [v.name for v in layer.weights] == ["a:0"]
    Interrupted.interrupt = False
    assert float(layer(tf.ones([1]))[0]) == 1.0
    assert [v.name for v in layer.weights] == ["a:0", "b:0"]
    assert v1.get_variable_scope().name == "", "the interrupted call must leave no scope open"


@keras.saving.register_keras_serializable(package="tf1kit_tests")
class SubclassedShimModel(keras.Model):
    @tf1kit.track_tf1_style_variables
    def call(self, inputs, training=None):
        with v1.variable_scope("sub"):
            return tf.matmul(inputs, v1.get_variable("w", [4, 2]))


def test_keras_file_round_trip_of_a_subclassed_model(tmp_path):
    """No functional graph to replay: loading must create the TF1 variables itself."""
    model = SubclassedShimModel()
    expected = model(DATA[0]).numpy()
    model.save(tmp_path / "sub.keras")
    loaded = keras.models.load_model(tmp_path / "sub.keras")
    assert [v.name for v in loaded.weights] == ["sub/w:0"]
    np.testing.assert_allclose(loaded(DATA[0]).numpy(), expected, rtol=1e-6)


def test_call_observers_see_every_decorated_call_and_its_outcome():
    from tf1kit.decorator import add_call_observer, remove_call_observer

    seen = []

    def observer(owner, args, kwargs):
        seen.append(("start", type(owner).__name__))
        return lambda error: seen.append(("end", type(error).__name__ if error else None))

    layer = ShimDense()
    add_call_observer(observer)
    try:
        layer(DATA[0], training=True)
        with pytest.raises(ValueError):
            layer(np.ones((2, 5), np.float32))  # kernel shape conflict
    finally:
        remove_call_observer(observer)
    layer(DATA[0])
    assert seen == [("start", "ShimDense"), ("end", None),
                    ("start", "ShimDense"), ("end", "ValueError")]


def test_drop_and_restore_keep_store_keras_and_module_views_in_step():
    from tf1kit.decorator import drop_variable, restore_variable

    class Module(tf.Module):
        @tf1kit.track_tf1_style_variables
        def __call__(self, x):
            return x * v1.get_variable("a", []) * v1.get_variable("b", [])

    module, layer = Module(), ShimDense()
    module(tf.ones([1]))
    layer(DATA[0])
    for owner, name, views in [
            (module, "b", lambda: [v.name for v in module.variables]),
            (layer, "shim/bias", lambda: [v.name for v in layer.weights])]:
        before = sorted(views())
        variable = drop_variable(owner, name)
        assert f"{name}:0" not in views()
        restore_variable(owner, variable)
        assert sorted(views()) == before


class LazyInner(keras.layers.Layer):
    """TF1-era code that builds its Keras sub-layer on the first call."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = None

    @tf1kit.track_tf1_style_variables
    def call(self, x):
        if self.inner is None:
            self.inner = keras.layers.Dense(3, kernel_initializer="ones", name="inner")
        with v1.variable_scope("lazy"):
            scale = v1.get_variable("scale", [], initializer=v1.constant_initializer(2.0))
        return self.inner(x * scale)


@pytest.mark.parametrize("first_call", ["eager", "tf_function", "functional"])
def test_sub_layers_created_lazily_in_the_call_are_tracked(first_call):
    layer = LazyInner()
    if first_call == "eager":
        layer(DATA[0])
    elif first_call == "tf_function":
        tf.function(layer)(DATA[0])
    else:
        inputs = keras.Input((4,))
        keras.Model(inputs, layer(inputs))
    inner = layer.inner
    # Keras 3 prefixes a sub-layer built in the call with the owner's name scope.
    assert sorted(v.path.replace(f"{layer.name}/", "") for v in layer.weights) == [
        "inner/bias", "inner/kernel", "lazy/scale"]
    np.testing.assert_allclose(layer(DATA[0]).numpy(), np.full((8, 3), 4 * 2.0))
    assert layer.inner is inner and len(layer.weights) == 3
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(DATA[0]))
    grads = tape.gradient(loss, layer.trainable_weights)
    assert all(g is not None for g in grads)


def test_tf_module_variables_include_an_embedded_keras_model():
    """Keras 3 layers are not tf.Modules: `module.variables` must still list
    the weights of Keras models made by get_or_create_layer, and train them."""

    def build_model():
        inputs = keras.Input((4,))
        return keras.Model(inputs, keras.layers.Dense(3, name="dense")(inputs))

    class Module(tf.Module):
        @tf1kit.track_tf1_style_variables
        def __call__(self, x):
            with v1.variable_scope("m"):
                w = v1.get_variable("w", [4, 4], initializer=v1.ones_initializer())
            model = tf1kit.get_or_create_layer("dense_model", build_model)
            lazy = tf1kit.get_or_create_layer("lazy", lambda: keras.layers.Dense(2, name="later"))
            return lazy(model(tf.matmul(x, w)))

    module = Module()
    module(DATA[0])
    keras_weights = [w for layer in tf1kit.decorator.find_store(module).nested_layers.values()
                     for w in layer.weights]
    assert sorted(w.path for w in keras_weights) == [
        "dense/bias", "dense/kernel", "later/bias", "later/kernel"]
    assert sorted(v.name for v in module.variables) == sorted(
        ["m/w:0"] + [w.value.name for w in keras_weights])
    assert {id(w.value) for w in keras_weights} <= {id(v) for v in module.trainable_variables}
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(module(DATA[0]) ** 2)
    grads = tape.gradient(loss, module.trainable_variables)
    assert len(grads) == 5 and all(g is not None for g in grads)
    module(DATA[0])
    assert len(module.variables) == 5


def test_a_decorated_layer_stays_open_to_new_state_after_build():
    """Keras 3 locks a layer's state after `build`; a decorated layer stays
    open, like Keras' own Sequential: its TF1 code creates state in the call,
    and a `build` racing the first call from another thread must not lock it."""
    layer = LazyInner()
    layer.build((None, 4))
    layer.probe = keras.layers.Dense(1)  # Keras' lock would refuse this
    layer(DATA[0])
    assert layer.inner is not None and len(layer.weights) == 3


def test_first_call_inside_strategy_run_with_a_cross_replica_step_does_not_hang():
    """MirroredStrategy runs replica threads one at a time and switches at
    `all_reduce`; the first-call lock must not make replica 1 wait for
    replica 0, which waits for replica 1 at the all_reduce."""
    import threading

    class Synced(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x):
            w = v1.get_variable("w", [4, 2], initializer=v1.ones_initializer())
            return tf.distribute.get_replica_context().all_reduce("sum", tf.matmul(x, w))

    devices = [d.name for d in tf.config.list_logical_devices("CPU")[:2]]
    assert len(devices) == 2, "conftest must split the CPU into two logical devices"
    strategy = tf.distribute.MirroredStrategy(
        devices, cross_device_ops=tf.distribute.ReductionToOneDevice())
    with strategy.scope():
        layer = Synced()
    results = []

    def first_call():
        try:
            results.append(tf.function(lambda x: strategy.run(layer, args=(x,)))(tf.ones([4, 4])))
        except Exception as exc:  # noqa: BLE001 - reported below
            results.append(exc)

    worker = threading.Thread(target=first_call, daemon=True)
    worker.start()
    worker.join(120)
    assert not worker.is_alive(), "deadlock: replicas wait for each other"
    assert not isinstance(results[0], Exception), repr(results[0])
    for value in strategy.experimental_local_results(results[0]):
        # each replica sees the whole (4, 4) input of ones: 4 per entry, summed over 2 replicas
        np.testing.assert_allclose(value.numpy(), np.full((4, 2), 4.0 * 2))
    assert [v.name for v in layer.weights] == ["w:0"]
