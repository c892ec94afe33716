"""batch_normalization / BatchNormalization against the official shim."""

import pytest

from differential import assert_same, case, official, ours
from layer_cases import layer_case

PLAIN = layer_case(case, "layers_bn_plain", '''
def forward(net, x, training):
    a = v1.layers.batch_normalization(x, training=training)
    b = v1.layers.batch_normalization(x * 3.0 + 1.0, momentum=0.5, epsilon=0.01,
                                      gamma_regularizer="l2",
                                      beta_initializer=v1.constant_initializer(0.2),
                                      training=training, name="custom")
    c = v1.layers.batch_normalization(x, center=False, scale=False, momentum=0.9,
                                      training=training)
    d = net.bn(x * 2.0, training=training) + net.bn(x, training=training)
    return tf.concat([a, b, c, d], axis=1)

def parts():
    return {"bn": v1.layers.BatchNormalization(momentum=0.8, name="obj")}

result.update(run(forward, data(6, 4), steps=3, parts=parts))
''')

FUSED = layer_case(case, "layers_bn_fused", '''
def forward(net, x, training):
    a = v1.layers.batch_normalization(x, momentum=0.7, training=training)
    b = v1.layers.batch_normalization(tf.transpose(x, [0, 3, 1, 2]), axis=1, momentum=0.6,
                                      training=training)
    c = v1.layers.batch_normalization(x, fused=False, momentum=0.7, training=training)
    d = v1.layers.batch_normalization(x, axis=2, momentum=0.5, training=training)
    e = v1.layers.batch_normalization(x, scale=False, center=False, momentum=0.5,
                                      training=training)
    vol = tf.reshape(x, [4, 3, 2, 1, 3])
    f = v1.layers.batch_normalization(vol, momentum=0.5, training=training)
    g = v1.layers.batch_normalization(vol, axis=2, momentum=0.5, training=training)
    return tf.concat([tf.reshape(t, [4, -1]) for t in (a, b, c, d, e, f, g)], axis=1)

result.update(run(forward, data(4, 3, 2, 3) * 2.0 + 0.5, steps=3))
''')

OPTIONS = layer_case(case, "layers_bn_options", '''
def forward(net, x, training):
    a = v1.layers.batch_normalization(x, axis=[1, 2], momentum=0.5, training=training)
    b = v1.layers.batch_normalization(x, virtual_batch_size=2, momentum=0.5,
                                      training=training)
    c = v1.layers.batch_normalization(x, renorm=True, momentum=0.5, renorm_momentum=0.7,
                                      training=training)
    d = v1.layers.batch_normalization(x, renorm=True, momentum=0.5,
                                      renorm_clipping={"rmax": 1.1, "rmin": 0.9, "dmax": 0.1},
                                      training=training)
    e = v1.layers.batch_normalization(x, trainable=False, momentum=0.5, training=training)
    f = v1.layers.batch_normalization(x, momentum=0.5, training=None)  # follows the Keras call
    return tf.concat([tf.reshape(t, [4, -1]) for t in (a, b, c, d, e, f)], axis=1)

result.update(run(forward, data(4, 3, 5) * 2.0 + 0.5, steps=3))
''')

ADJUSTMENT = layer_case(case, "layers_bn_adjustment", '''
def adjustment(shape):
    return tf.fill([5], 1.5), tf.fill([5], -0.25)

def forward(net, x, training):
    return v1.layers.batch_normalization(x, momentum=0.5, adjustment=adjustment,
                                         training=training)

result.update(run(forward, data(4, 3, 5) + 0.5, steps=2))
''')

TENSOR_TRAINING = layer_case(case, "layers_bn_tensor_training", '''
class Model(tf.keras.layers.Layer):
    @v1.keras.utils.track_tf1_style_variables
    def call(self, x, training):
        with v1.variable_scope("model"):
            a = v1.layers.batch_normalization(x, momentum=0.5, training=training)
            b = v1.layers.batch_normalization(tf.reshape(x, [4, 2, 2, 3]), momentum=0.5,
                                              training=training)
            c = v1.layers.dropout(x, 0.5, training=training)
            return tf.concat([a, tf.reshape(b, [4, -1]), c * 0.0], axis=1)

x = data(4, 12) + 1.0
model = Model()

@tf.function
def step(x, training):
    return model(x, training=training)

outs = []
for flag in (True, False, True):
    outs.append(step(x, tf.constant(flag)))
outs.append(model(x, training=tf.constant(True)))
outs.append(model(x, training=tf.constant(False)))
result["outs"] = outs
result["state"] = {v.name: v.numpy() for v in model.weights}
result["trainable"] = sorted(v.name for v in model.trainable_weights)
''')

GRAPH_FUNCTION_TRAIN = layer_case(case, "layers_bn_tf_function_sgd", '''
class Model(tf.keras.layers.Layer):
    @v1.keras.utils.track_tf1_style_variables
    def call(self, x, training):
        with v1.variable_scope("model"):
            h = v1.layers.conv2d(x, 4, 2, kernel_initializer=GLOROT())
            h = v1.layers.batch_normalization(h, training=training, momentum=0.8)
            h = v1.layers.flatten(tf.nn.relu(h))
            h = v1.layers.dense(h, 3, kernel_initializer=GLOROT(), kernel_regularizer="l2")
            return v1.layers.batch_normalization(h, training=training, momentum=0.8)

with v1.keras.utils.DeterministicRandomTestTool(mode="num_random_ops").scope():
    model = Model()
    x = data(4, 5, 5, 2)
    model(x, training=False)
    opt = tf.keras.optimizers.SGD(0.1)

    @tf.function
    def train():
        with tf.GradientTape() as tape:
            y = model(x, training=True)
            loss = tf.reduce_mean(tf.square(y - 1.0)) + tf.add_n(model.losses)
        grads = tape.gradient(loss, model.trainable_weights)
        opt.apply_gradients(zip(grads, model.trainable_weights))
        return loss

    result["losses"] = [train() for _ in range(4)]
    result["state"] = {v.name: v.numpy() for v in model.weights}
    result["infer"] = model(x, training=False)
''')


@pytest.mark.parametrize("name", [PLAIN, FUSED, OPTIONS, ADJUSTMENT, TENSOR_TRAINING,
                                  GRAPH_FUNCTION_TRAIN])
def test_matches_official(name):
    assert_same(official(name), ours(name), rtol=1e-5, atol=1e-5)


def test_trainable_false_freezes_everything_but_keeps_training_mode():
    """v1 layers: trainable=False does not switch to inference mode (the
    output uses batch statistics), but gamma/beta are frozen and the moving
    statistics stay put, as in the official shim."""
    result = ours(OPTIONS)
    frozen = [n for n in result["initial"] if n.startswith("model/batch_normalization_4/")]
    assert len(frozen) == 4 and not any(n in result["trainable"] for n in frozen)
    for name in frozen:
        assert (result["after"][name] == result["initial"][name]).all(), name
    train_part, infer_part = result["train"][:, -30:-15], result["infer"][:, -30:-15]
    assert abs(train_part - infer_part).max() > 0.1


def test_moving_statistics_are_sync_on_read_means_under_mirrored_strategy():
    import tensorflow as tf

    import tf1kit

    class Net(tf.keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x, training=False):
            return tf1kit.layers.batch_normalization(x, training=training, momentum=0.5)

    strategy = tf.distribute.MirroredStrategy(["CPU:0"])
    with strategy.scope():
        net = Net()
        x = tf.fill([2, 3, 3, 2], 3.0)
        net(x)

        @tf.function
        def step():
            return strategy.run(lambda: net(x, training=True))

        step()
    moving_mean = next(v for v in net.weights if "moving_mean" in v.name)
    assert moving_mean.value.synchronization == tf.VariableSynchronization.ON_READ
    assert moving_mean.value.aggregation == tf.VariableAggregation.MEAN
    assert not moving_mean.trainable
    assert moving_mean.numpy() == pytest.approx([1.5, 1.5])
