"""Models for the `to_keras` tests, and the checks every conversion must pass.

A helper, not a test module. The models are the guide's (lessons 2-7), TF-Slim's
`resnet_v1_50` and `inception_v1` from the installed `tf_slim` package, and small
zoos covering every layer family. `converted(name)` converts each once per test
session; `assert_trains_the_same` compares the shim and the native model through
inference, gradients and optimizer steps, variable by variable through the
weight map.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
import keras

import tf1kit

tf1kit.install()
v1 = tf.compat.v1
import tf_slim as slim  # noqa: E402 - after install(), as a migrating user imports it
from tf_slim.nets import inception_v1, resnet_v1  # noqa: E402


def line_carrying(marker: str, path: str) -> str:
    """`<path>:<line>` of the line in `path` that carries `marker`."""
    with open(path) as f:
        for number, line in enumerate(f, start=1):
            if marker in line and "line_of(" not in line:
                return f"{path}:{number}"
    raise AssertionError(f"marker {marker!r} not in {path}")


def batch(*shape, seed=0, scale=1.0):
    values = np.random.RandomState(seed).normal(scale=scale, size=shape).astype("float32")
    return tf.constant(values)


# -- lesson 2: a dense layer written with get_variable -------------------------------

def projection(x, width):
    with v1.variable_scope("proj"):
        w = v1.get_variable("w", shape=[x.shape[-1], width],
                            initializer=v1.glorot_uniform_initializer(),
                            regularizer=keras.regularizers.L2(0.01))
        b = v1.get_variable("b", shape=[width], initializer=v1.zeros_initializer())
    return v1.nn.bias_add(tf.matmul(x, w), b)


class Projection(keras.layers.Layer):
    def __init__(self, width, **kwargs):
        super().__init__(**kwargs)
        self.width = width

    @v1.keras.utils.track_tf1_style_variables
    def call(self, x):
        return projection(x, self.width)


# -- lessons 3 and 4: tf.compat.v1.layers, batch norm, dropout ------------------------

class SmallConvNet(keras.layers.Layer):
    def __init__(self, classes, rate=0.0, **kwargs):
        super().__init__(**kwargs)
        self.classes = classes
        self.rate = rate

    @v1.keras.utils.track_tf1_style_variables
    def call(self, images, training=None):
        with v1.variable_scope("net"):
            h = v1.layers.conv2d(images, filters=4, kernel_size=3, padding="same",
                                 kernel_regularizer=keras.regularizers.L2(0.01))
            h = v1.layers.batch_normalization(h, momentum=0.9, training=training)
            h = tf.nn.relu(h)
            h = v1.layers.max_pooling2d(h, 2, 2)
            h = v1.layers.dropout(h, self.rate, training=training)
            h = v1.layers.flatten(h)
            return v1.layers.dense(h, self.classes,
                                   kernel_regularizer=keras.regularizers.L2(0.01))


class NormalizedFeatures(keras.layers.Layer):
    """Lesson 4: batch norm on 2-D inputs (TF1's plain, non-fused path)."""

    @v1.keras.utils.track_tf1_style_variables
    def call(self, x, training=None):
        with v1.variable_scope("features"):
            return v1.layers.batch_normalization(x, momentum=0.5, training=training)


# -- lesson 5: nested layers ----------------------------------------------------------

class InnerProjection(keras.layers.Layer):
    def __init__(self, width, **kwargs):
        super().__init__(**kwargs)
        self.width = width

    @v1.keras.utils.track_tf1_style_variables
    def call(self, x):
        with v1.variable_scope("inner_proj"):
            w = v1.get_variable("kernel", shape=[x.shape[-1], self.width],
                                initializer=v1.glorot_normal_initializer(),
                                regularizer=keras.regularizers.L2(0.01))
            b = v1.get_variable("bias", shape=[self.width], initializer=v1.zeros_initializer())
        return tf.matmul(x, w) + b


class Stacked(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = InnerProjection(6)

    @v1.keras.utils.track_tf1_style_variables
    def call(self, x):
        with v1.variable_scope("stack"):
            h = v1.layers.dense(x, 5, name="first")
            h = v1.layers.dense(h, 4)
            h = v1.layers.dense(h, 3)
            return self.inner(h)


class Classifier(keras.layers.Layer):
    """A functional Keras model made with get_or_create_layer."""

    def __init__(self, classes, **kwargs):
        super().__init__(**kwargs)
        self.classes = classes

    def make_head(self):
        features = keras.Input(shape=(4,))
        logits = keras.layers.Dense(self.classes, name="logits", kernel_initializer="ones",
                                    kernel_regularizer="l2")(features)
        return keras.Model(features, logits, name="head")

    @v1.keras.utils.track_tf1_style_variables
    def call(self, x):
        head = v1.keras.utils.get_or_create_layer("head", self.make_head)
        return head(x)


# -- lesson 6: loops of scopes, make_template ----------------------------------------

class Tower(keras.layers.Layer):
    def __init__(self, depth, **kwargs):
        super().__init__(**kwargs)
        self.depth = depth

    @v1.keras.utils.track_tf1_style_variables
    def call(self, x):
        with v1.variable_scope("tower"):
            for _ in range(self.depth):
                with v1.variable_scope(None, default_name="block"):
                    gain = v1.get_variable("gain", shape=[], initializer=v1.constant_initializer(2.0))
                    x = x * gain
        return x


class Shift(keras.layers.Layer):
    """Adds a learned offset vector, written with a TF1 template."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

        def add_offset(x, var_name):
            offset = v1.get_variable(var_name, shape=[x.shape[-1]],
                                     initializer=v1.constant_initializer(0.5),
                                     regularizer=keras.regularizers.L2(0.1))
            return x + offset

        self.add_offset = v1.make_template("add_offset", add_offset, var_name="offset")

    @v1.keras.utils.track_tf1_style_variables
    def call(self, x):
        with v1.variable_scope("shift"):
            return self.add_offset(x)


# -- lesson 7: the incremental migration chain -------------------------------------------

L2 = keras.regularizers.L2(0.01)


class LegacyNet(keras.layers.Layer):
    def __init__(self, classes, **kwargs):
        super().__init__(**kwargs)
        self.classes = classes

    @v1.keras.utils.track_tf1_style_variables
    def call(self, x):
        with v1.variable_scope("net"):
            h = v1.layers.conv2d(x, 4, 3, kernel_regularizer=L2)
            h = v1.layers.flatten(h)
            return v1.layers.dense(h, self.classes, kernel_regularizer=L2)


class Step1Net(keras.layers.Layer):
    def __init__(self, classes, **kwargs):
        super().__init__(**kwargs)
        self.classes = classes
        self.conv = keras.layers.Conv2D(4, 3, kernel_regularizer=L2)

    @v1.keras.utils.track_tf1_style_variables
    def call(self, x):
        with v1.variable_scope("net"):
            h = self.conv(x)
            h = v1.layers.flatten(h)
            return v1.layers.dense(h, self.classes, kernel_regularizer=L2)


class Step2Net(keras.layers.Layer):
    def __init__(self, classes, **kwargs):
        super().__init__(**kwargs)
        self.conv = keras.layers.Conv2D(4, 3, kernel_regularizer=L2)
        self.flatten = keras.layers.Flatten()
        self.dense = keras.layers.Dense(classes, kernel_regularizer=L2)

    @v1.keras.utils.track_tf1_style_variables
    def call(self, x):
        with v1.variable_scope("net"):
            return self.dense(self.flatten(self.conv(x)))


# -- every layer family ----------------------------------------------------------------

class LayerZoo(keras.layers.Layer):
    """Each tf.compat.v1.layers family once, channels-first and causal included."""

    @v1.keras.utils.track_tf1_style_variables
    def call(self, x, training=None):
        layers = v1.layers
        with v1.variable_scope("zoo"):
            h = layers.conv2d(x, 4, 3, strides=2, padding="same", activation="relu",
                              bias_initializer=v1.constant_initializer(0.1))
            h = layers.separable_conv2d(h, 4, 3, depth_multiplier=2, padding="same",
                                        pointwise_regularizer=keras.regularizers.L1(0.01))
            h = layers.conv2d_transpose(h, 3, 3, strides=2, padding="same", use_bias=False)
            h = layers.conv2d(h, 4, 1, data_format="channels_first", name="first_axis")
            h = layers.average_pooling2d(h, 2, 2, data_format="channels_first")
            h = layers.batch_normalization(h, axis=1, training=training, name="bn_first")
            seq = tf.reshape(h, [-1, 6, 2])
            seq = layers.conv1d(seq, 4, 3, padding="causal", dilation_rate=2)
            seq = layers.separable_conv1d(seq, 4, 2, padding="same")
            seq = layers.max_pooling1d(seq, 2, 1)
            seq = layers.average_pooling1d(seq, 2, 1, padding="same")
            vol = tf.reshape(seq, [-1, 5, 2, 2, 1])
            vol = layers.conv3d(vol, 2, 2, padding="same", kernel_initializer=v1.ones_initializer())
            vol = layers.conv3d_transpose(vol, 2, 2, strides=1, activation=tf.nn.tanh)
            vol = layers.max_pooling3d(vol, 2, 1, padding="same")
            vol = layers.average_pooling3d(vol, 2, 1, data_format="channels_first")
            flat = layers.flatten(vol)
            flat = layers.dropout(flat, 0.0, training=training)
            return layers.dense(flat, 3, activation=tf.nn.sigmoid, use_bias=False,
                                kernel_constraint=keras.constraints.MaxNorm(2.0))


def raw_zoo_forward(x):
    """Raw get_variable weights: layer patterns, and weights no layer matches.

    Plain TF1 (no tf.compat.v1.layers), so it also runs as a TF1 graph."""
    with v1.variable_scope("raw"):
        with v1.variable_scope("conv"):
            kernel = v1.get_variable("kernel", [3, 3, 2, 4])
            bias = v1.get_variable("bias", [4], initializer=v1.zeros_initializer(),
                                   regularizer=keras.regularizers.L2(0.1))
        h = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, kernel, 1, "SAME"), bias))
        with v1.variable_scope("depthwise"):
            depthwise = v1.get_variable("kernel", [3, 3, 4, 2])
        h = tf.nn.depthwise_conv2d(h, depthwise, [1, 2, 2, 1], "VALID")
        with v1.variable_scope("scale"):
            # Read twice: no Keras layer owns it, the scope's own layer does.
            gamma = v1.get_variable("gamma", [8], initializer=v1.ones_initializer())
            h = h * gamma + tf.reduce_mean(gamma)
        h = 2.0 - (h - 1.0) / 4.0 - (0.25 - h)  # parentheses that must survive
        h = tf.reduce_mean(h, axis=[1, 2])
        with v1.variable_scope("logits"):
            w = v1.get_variable("w", [8, 3], regularizer=keras.regularizers.L2(0.01))
            b = v1.get_variable("b", [3], initializer=v1.constant_initializer(0.5))
        return tf.concat([tf.matmul(h, w) + b, tf.nn.softmax(h[:, :2])], axis=1)


class RawZoo(keras.layers.Layer):
    @v1.keras.utils.track_tf1_style_variables
    def call(self, x):
        return raw_zoo_forward(x)


def creation_order_forward(x):
    """Raw weights made between layers, in a scope and in its child scope:
    the native layers must create them in this order too (random initial
    values drawn from one seed sequence land on the same variables)."""
    with v1.variable_scope("mix"):
        h = v1.layers.dense(x, 4, name="first")
        gain = v1.get_variable("gain", [4], initializer=v1.random_normal_initializer())
        h = h * gain
        with v1.variable_scope("inner"):
            h = v1.layers.dense(h, 3, name="proj")
            shift = v1.get_variable("shift", [3], initializer=v1.random_uniform_initializer())
            h = v1.layers.dense(tf.tanh(h + shift), 3, name="mixer")
        # Read twice: a weight of `mix` itself.
        table = v1.get_variable("table", [3], initializer=v1.truncated_normal_initializer())
        h = h * table + tf.reduce_sum(table)
        return v1.layers.dense(h, 2, name="last")


class CreationOrder(keras.layers.Layer):
    @v1.keras.utils.track_tf1_style_variables
    def call(self, x):
        return creation_order_forward(x)


class SlimZoo(keras.layers.Layer):
    """TF-Slim's layer functions under arg_scope, slim regularizers included."""

    @v1.keras.utils.track_tf1_style_variables
    def call(self, x, training=False):
        with slim.arg_scope([slim.conv2d, slim.fully_connected],
                            weights_regularizer=slim.l2_regularizer(0.01),
                            weights_initializer=slim.variance_scaling_initializer()):
            with v1.variable_scope("slim_zoo"):
                h = slim.conv2d(x, 4, [3, 3], normalizer_fn=slim.batch_norm,
                                normalizer_params={"is_training": training, "scale": True},
                                scope="conv1")
                h = slim.max_pool2d(h, [2, 2], scope="pool1")
                h = slim.separable_conv2d(h, 6, [3, 3], depth_multiplier=1, scope="sep")
                h = slim.separable_conv2d(h, None, [3, 3], depth_multiplier=2, scope="dw")
                h = slim.conv2d_transpose(h, 3, [2, 2], stride=2, scope="up")
                h = slim.avg_pool2d(h, [2, 2], padding="SAME", scope="pool2")
                h = slim.dropout(h, keep_prob=1.0, is_training=training, scope="drop")
                h = slim.flatten(h)
                return slim.fully_connected(h, 5, activation_fn=None, scope="fc")


# -- TF-Slim's nets ----------------------------------------------------------------------

class ResNet50(keras.layers.Layer):
    @v1.keras.utils.track_tf1_style_variables
    def call(self, images, training=False):
        with slim.arg_scope(resnet_v1.resnet_arg_scope()):
            net, _ = resnet_v1.resnet_v1_50(images, num_classes=10, is_training=training)
        return net


class InceptionV1(keras.layers.Layer):
    def __init__(self, keep_prob=1.0, **kwargs):
        super().__init__(**kwargs)
        self.keep_prob = keep_prob

    @v1.keras.utils.track_tf1_style_variables
    def call(self, images, training=False):
        # Two edits a migrating user makes: a SAME final pool (the VALID 7x7 one
        # needs 224x224 images), and batch-norm parameters without slim's
        # moving-statistics collection (its membership test compares shim
        # variables elementwise, issue 15).
        with slim.arg_scope(inception_v1.inception_v1_arg_scope()), \
                slim.arg_scope([slim.avg_pool2d], padding="SAME"), \
                slim.arg_scope([slim.conv2d],
                               normalizer_params={"decay": 0.9997, "epsilon": 0.001}):
            logits, _ = inception_v1.inception_v1(images, num_classes=10, is_training=training,
                                                  dropout_keep_prob=self.keep_prob)
        return logits


# -- RNNs: tf.compat.v1.nn.rnn_cell under the rnn functions --------------------------------

rc = v1.nn.rnn_cell


class LSTMOptions(keras.layers.Layer):
    """LSTMCell with every option, sequence lengths, and its final state used."""

    @v1.keras.utils.track_tf1_style_variables
    def call(self, features):
        cell = rc.LSTMCell(5, use_peepholes=True, cell_clip=0.8, num_proj=4, proj_clip=0.6,
                           forget_bias=0.5, initializer=v1.random_uniform_initializer(-0.5, 0.5))
        outputs, state = v1.nn.dynamic_rnn(cell, features["x"],
                                           sequence_length=features["lengths"],
                                           dtype=tf.float32)
        return tf.concat([tf.reshape(outputs, [-1, 16]), state.c, state.h], axis=1)


class StaticGRU(keras.layers.Layer):
    """static_rnn over a list of steps with a computed initial state, and
    static_bidirectional_rnn; single steps of the output list are used."""

    @v1.keras.utils.track_tf1_style_variables
    def call(self, x):
        steps = tf.unstack(x, axis=1)
        cell = rc.ResidualWrapper(rc.GRUCell(
            3, kernel_initializer=v1.glorot_normal_initializer(),
            bias_initializer=v1.constant_initializer(0.5)))
        outputs, state = v1.nn.static_rnn(cell, steps, initial_state=tf.tanh(steps[0]))
        both, _, backward_state = v1.nn.static_bidirectional_rnn(
            rc.GRUCell(2), rc.GRUCell(2), outputs, dtype=tf.float32, scope="both_ways")
        return tf.concat([outputs[0], outputs[-1], state, both[1], backward_state], axis=1)


class BidirectionalLSTM(keras.layers.Layer):
    """bidirectional_dynamic_rnn with lengths, two kinds of cell, both states used."""

    @v1.keras.utils.track_tf1_style_variables
    def call(self, features):
        (forward, backward), (forward_state, backward_state) = v1.nn.bidirectional_dynamic_rnn(
            rc.BasicLSTMCell(4, forget_bias=0.3), rc.BasicRNNCell(4, activation=tf.nn.relu),
            features["x"], sequence_length=features["lengths"], dtype=tf.float32)
        return tf.concat([forward[:, -1], backward[:, 0], forward_state.h, backward_state],
                         axis=1)


class StackedTimeMajor(keras.layers.Layer):
    """A MultiRNNCell of wrapped cells over time-major inputs from a zero state."""

    @v1.keras.utils.track_tf1_style_variables
    def call(self, x, training=False):
        cell = rc.MultiRNNCell([
            rc.DropoutWrapper(rc.DeviceWrapper(rc.GRUCell(4), "/cpu:0"), output_keep_prob=1.0),
            rc.LSTMCell(4)])
        initial = cell.zero_state(tf.shape(x)[0], tf.float32)
        outputs, state = v1.nn.dynamic_rnn(cell, tf.transpose(x, [1, 0, 2]),
                                           initial_state=initial, time_major=True)
        return tf.concat([tf.reduce_sum(outputs, axis=0), state[0], state[1].h], axis=1)


def sequences(lengths, steps=4, depth=3, seed=0):
    return {"lengths": tf.constant(lengths, tf.int32),
            "x": batch(len(lengths), steps, depth, seed=seed)}


# -- real models: the zoo's LSTM language model and BERT (tests/zoo/zoo_models.py) --------

_ZOO = {}


def zoo_models() -> dict:
    """The zoo's model source (BERT's modeling.py loaded with its migrating edits)."""
    if not _ZOO:
        from zoo.zoo_models import MODELS

        _ZOO.update(np=np, tf=tf, v1=v1)
        exec(compile(MODELS, "<zoo models>", "exec"), _ZOO)  # noqa: S102 - the zoo's own source
    return _ZOO


class LanguageModel(keras.layers.Layer):
    """The zoo's PTB-style LSTM language model: per-sequence cross-entropy."""

    def __init__(self, keep_prob=1.0, **kwargs):
        super().__init__(**kwargs)
        self.keep_prob = keep_prob

    @v1.keras.utils.track_tf1_style_variables
    def call(self, tokens, training=False):
        return zoo_models()["build_lstm_lm"](tokens, bool(training), self.keep_prob)


class BertEncoder(keras.layers.Layer):
    """BERT from bert-tensorflow, the zoo's tiny config: the pooled output."""

    @v1.keras.utils.track_tf1_style_variables
    def call(self, features, training=False):
        return zoo_models()["build_bert"](features, bool(training))


def zoo_inputs(name):
    values = zoo_models()[name]()
    if isinstance(values, dict):
        return {key: tf.constant(value) for key, value in values.items()}
    return tf.constant(values)


# -- the cases ------------------------------------------------------------------------------

CASES = {
    "lesson2_projection": (lambda: Projection(3), lambda: batch(4, 6)),
    "lesson3_conv_bn_dropout": (lambda: SmallConvNet(3), lambda: batch(4, 6, 6, 2)),
    "lesson4_batch_norm_2d": (lambda: NormalizedFeatures(), lambda: batch(8, 3)),
    "lesson5_nested": (lambda: Stacked(), lambda: batch(2, 8)),
    "lesson5_functional_head": (lambda: Classifier(3), lambda: batch(2, 4)),
    "lesson6_tower": (lambda: Tower(3), lambda: batch(2, 2, scale=0.1)),
    "lesson6_template": (lambda: Shift(), lambda: batch(2, 3)),
    "lesson7_legacy": (lambda: LegacyNet(5), lambda: batch(6, 7, 7, 2)),
    "lesson7_step1": (lambda: Step1Net(5), lambda: batch(6, 7, 7, 2)),
    "lesson7_step2": (lambda: Step2Net(5), lambda: batch(6, 7, 7, 2)),
    "layer_zoo": (lambda: LayerZoo(), lambda: batch(4, 6, 6, 2)),
    "raw_zoo": (lambda: RawZoo(), lambda: batch(3, 8, 8, 2)),
    "slim_zoo": (lambda: SlimZoo(), lambda: batch(2, 8, 8, 3)),
    "creation_order": (lambda: CreationOrder(), lambda: batch(3, 5)),
    # 64x64: at 32x32 block4 normalizes 2 values per channel, and the shim's own
    # training steps diverge.
    "resnet_v1_50": (lambda: ResNet50(), lambda: batch(2, 64, 64, 3)),
    "inception_v1": (lambda: InceptionV1(), lambda: batch(2, 32, 32, 3)),
    "rnn_lstm_options": (lambda: LSTMOptions(), lambda: sequences([4, 2, 3])),
    "rnn_static_gru": (lambda: StaticGRU(), lambda: batch(3, 4, 3)),
    "rnn_bidirectional": (lambda: BidirectionalLSTM(), lambda: sequences([2, 4, 1], seed=1)),
    "rnn_stacked_time_major": (lambda: StackedTimeMajor(), lambda: batch(3, 4, 3, seed=2)),
    "lstm_language_model": (lambda: LanguageModel(), lambda: zoo_inputs("token_inputs")),
    "bert_encoder": (lambda: BertEncoder(), lambda: zoo_inputs("bert_inputs")),
}

# Deep nets train stably (and comparably) with smaller steps.
LEARNING_RATES = {"resnet_v1_50": 1e-3, "inception_v1": 1e-3}

_CONVERTED: dict = {}


def converted(name):
    """(layer, inputs, result) for a case, converted once per test session."""
    if name not in _CONVERTED:
        make_layer, make_inputs = CASES[name]
        layer, inputs = make_layer(), make_inputs()
        layer(inputs)
        if _takes_training(layer):
            layer(inputs, training=True)  # moving statistics leave their initial values
        _CONVERTED[name] = (layer, inputs, tf1kit.to_keras(layer, inputs))
    return _CONVERTED[name]


# -- the comparison ---------------------------------------------------------------------------

def _assert_close(actual, desired, **kwargs):
    """allclose that fails on NaN (numpy's treats NaN == NaN as equal)."""
    actual, desired = np.asarray(actual), np.asarray(desired)
    assert np.all(np.isfinite(desired)), kwargs.get("err_msg", "the shim diverged")
    np.testing.assert_allclose(actual, desired, equal_nan=False, **kwargs)


def _takes_training(layer) -> bool:
    import inspect

    return "training" in inspect.signature(layer.call).parameters


def _run(model, x, training):
    return model(x, training=training) if training is not None else model(x)


def _loss(model, x, training):
    outputs = _run(model, x, training)
    loss = tf.reduce_mean(tf.square(outputs))
    if model.losses:
        loss += tf.add_n(model.losses)
    return loss


def paired_variables(layer, model, weight_map):
    """[(TF1 name, shim variable, native variable)] through the weight map."""
    from tf1kit.convert.graph import tf1_name

    native = {v.path: v for v in model.weights}
    pairs = [(tf1_name(v, layer.name), v, native[weight_map[tf1_name(v, layer.name)]])
             for v in layer.weights]
    assert len(pairs) == len(model.weights), "every native weight has a TF1 variable"
    return pairs


def assert_trains_the_same(layer, model, weight_map, x, steps=3, atol=1e-5, rtol=1e-5,
                           learning_rate=0.01):
    """Equal outputs (inference and training), regularization, gradients, and
    variables after `steps` SGD steps in training mode."""
    training_modes = (False, True) if _takes_training(layer) else (None,)
    pairs = paired_variables(layer, model, weight_map)
    for training in training_modes:
        _assert_close(_run(model, x, training), _run(layer, x, training),
                                   rtol=rtol, atol=atol, err_msg=f"outputs, training={training}")
    shim_losses = float(tf.add_n(layer.losses)) if layer.losses else 0.0
    native_losses = float(tf.add_n(model.losses)) if model.losses else 0.0
    _assert_close(native_losses, shim_losses, rtol=rtol, atol=atol)
    train = True if _takes_training(layer) else None
    shim_optimizer = keras.optimizers.SGD(learning_rate)
    native_optimizer = keras.optimizers.SGD(learning_rate)
    for step in range(steps):
        gradients = []
        for world, optimizer in ((layer, shim_optimizer), (model, native_optimizer)):
            with tf.GradientTape() as tape:
                loss = _loss(world, x, train)
            variables = world.trainable_weights
            # Embedding lookups give IndexedSlices; the optimizers take both forms.
            grads = [tf.convert_to_tensor(g) for g in tape.gradient(loss, variables)]
            gradients.append({id(v): g for v, g in zip(variables, grads)})
            optimizer.apply(grads, variables)
        for name, shim, native in pairs:
            if shim.trainable:
                _assert_close(
                    gradients[1][id(native)], gradients[0][id(shim)], rtol=rtol, atol=atol,
                    err_msg=f"gradient of {name}, step {step + 1}")
            _assert_close(native.numpy(), shim.numpy(), rtol=rtol, atol=atol,
                                       err_msg=f"{name} after step {step + 1}")
    for training in training_modes:
        _assert_close(_run(model, x, training), _run(layer, x, training),
                                   rtol=rtol, atol=atol, err_msg=f"outputs, training={training}")
