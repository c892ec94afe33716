"""Convolutions, transposed and separable convolutions, pooling: vs the official shim."""

import pytest

from differential import assert_same, case, official, ours
from layer_cases import layer_case

CONV = layer_case(case, "layers_conv", '''
def forward(net, x, training):
    a = v1.layers.conv2d(x, 4, 3, padding="same", activation=tf.nn.relu,
                         kernel_initializer=GLOROT(), kernel_regularizer="l2")
    b = v1.layers.conv2d(a, 3, (2, 3), strides=(2, 1), kernel_initializer=GLOROT(),
                         bias_initializer=v1.constant_initializer(0.1), name="strided")
    c = v1.layers.conv2d(x, 2, 3, dilation_rate=2, padding="SAME", use_bias=False,
                         kernel_initializer=GLOROT())
    seq = tf.reshape(x, [2, 18, 6])
    d = v1.layers.conv1d(seq, 3, 3, padding="causal", dilation_rate=2,
                         kernel_initializer=GLOROT())
    e = v1.layers.conv1d(seq, 2, 4, strides=2, kernel_initializer=GLOROT())
    vol = tf.reshape(x, [2, 3, 6, 2, 3])
    f = v1.layers.conv3d(vol, 2, (2, 2, 3), padding="same", kernel_initializer=GLOROT(),
                         bias_regularizer="l1")
    g = net.conv(x) + net.conv(x)
    return tf.concat([tf.reshape(t, [2, -1]) for t in (a, b, c, d, e, f, g)], axis=1)

def parts():
    return {"conv": v1.layers.Conv2D(2, 2, kernel_initializer=GLOROT(), name="obj")}

result.update(run_modes(forward, data(2, 6, 6, 3), parts=parts))
''')

CONV_CHANNELS_FIRST = layer_case(case, "layers_conv_channels_first", '''
def forward(net, x, training):
    first = tf.transpose(x, [0, 3, 1, 2])
    a = v1.layers.conv2d(first, 4, 3, data_format="channels_first",
                         kernel_initializer=GLOROT())
    b = v1.layers.max_pooling2d(a, 2, 2, data_format="channels_first")
    c = v1.layers.average_pooling2d(a, 3, 1, padding="same", data_format="channels_first")
    d = v1.layers.conv2d_transpose(first, 2, 2, strides=3, data_format="channels_first",
                                   kernel_initializer=GLOROT())
    e = v1.layers.separable_conv2d(first, 3, 2, data_format="channels_first",
                                   depthwise_initializer=GLOROT(),
                                   pointwise_initializer=GLOROT())
    f = v1.layers.conv1d(tf.reshape(first, [2, 3, 36]), 2, 3, padding="same",
                         dilation_rate=2, data_format="channels_first",
                         kernel_initializer=GLOROT())
    g = v1.layers.flatten(first, data_format="channels_first")
    return tf.concat([tf.reshape(t, [2, -1]) for t in (b, c, d, e, f, g)], axis=1)

# Gradients are left out: the official max-pool gradient refuses NCHW on CPU.
result.update(run(forward, data(2, 6, 6, 3), steps=0))
''')

TRANSPOSE_SEPARABLE = layer_case(case, "layers_transpose_separable", '''
def forward(net, x, training):
    a = v1.layers.conv2d_transpose(x, 2, 3, strides=2, kernel_initializer=GLOROT(),
                                   kernel_regularizer="l2")
    b = v1.layers.conv2d_transpose(x, 3, (2, 3), strides=(1, 2), padding="same",
                                   activation="relu", kernel_initializer=GLOROT())
    vol = tf.reshape(x, [2, 2, 3, 2, 3])
    c = v1.layers.conv3d_transpose(vol, 2, 2, strides=(2, 1, 2), padding="same",
                                   kernel_initializer=GLOROT())
    d = v1.layers.separable_conv2d(x, 4, 3, depth_multiplier=2, padding="same",
                                   depthwise_initializer=GLOROT(),
                                   pointwise_initializer=GLOROT(),
                                   pointwise_regularizer="l2")
    e = v1.layers.separable_conv2d(x, 2, 2, dilation_rate=2,
                                   depthwise_initializer=GLOROT(),
                                   pointwise_initializer=GLOROT())
    seq = tf.reshape(x, [2, 12, 3])
    f = v1.layers.separable_conv1d(seq, 3, 3, strides=2, padding="same",
                                   depthwise_initializer=GLOROT(),
                                   pointwise_initializer=GLOROT())
    g = v1.layers.separable_conv1d(seq, 2, 2, padding="causal", dilation_rate=3,
                                   depthwise_initializer=GLOROT(),
                                   pointwise_initializer=GLOROT(), use_bias=False)
    return tf.concat([tf.reshape(t, [2, -1]) for t in (a, b, c, d, e, f, g)], axis=1)

result.update(run_modes(forward, data(2, 4, 3, 3)))
''')

POOLING = layer_case(case, "layers_pooling", '''
def forward(net, x, training):
    outs = [
        v1.layers.max_pooling2d(x, 2, 2),
        v1.layers.max_pooling2d(x, (3, 2), (1, 2), padding="same"),
        v1.layers.average_pooling2d(x, 2, 1),
        v1.layers.average_pooling2d(x, 3, 2, padding="same"),
        v1.layers.MaxPooling2D(2, 2, name="pool")(x),
        v1.layers.AveragePooling2D((2, 2), strides=(1, 2))(x),
    ]
    seq = tf.reshape(x, [2, 25, 3])
    outs += [v1.layers.max_pooling1d(seq, 3, 2), v1.layers.average_pooling1d(seq, 4, 3, "same")]
    vol = tf.reshape(x, [2, 5, 5, 1, 3])
    outs += [v1.layers.max_pooling3d(vol, (2, 2, 1), 1),
             v1.layers.average_pooling3d(vol, 2, 2, padding="same")]
    shapes = [list(t.shape) for t in outs]
    return tf.concat([tf.reshape(t, [2, -1]) for t in outs], axis=1)

result.update(run(forward, data(2, 5, 5, 3), steps=1))
''')


@pytest.mark.parametrize("name", [CONV, CONV_CHANNELS_FIRST, TRANSPOSE_SEPARABLE, POOLING])
def test_matches_official(name):
    assert_same(official(name), ours(name), rtol=1e-5, atol=1e-5)


def test_channels_first_gradients_equal_channels_last_ones():
    """Where the official shim fails on CPU (MaxPoolGrad only takes NHWC),
    tf1kit computes channels-first layers channels-last, so they train."""
    import numpy as np
    import tensorflow as tf

    import tf1kit

    def make(data_format):
        class Net(tf.keras.layers.Layer):
            @tf1kit.track_tf1_style_variables
            def call(self, x):
                if data_format == "channels_first":
                    x = tf.transpose(x, [0, 3, 1, 2])
                h = tf1kit.layers.conv2d(x, 4, 3, data_format=data_format,
                                         kernel_initializer=tf.compat.v1.ones_initializer())
                h = tf1kit.layers.max_pooling2d(h, 2, 2, data_format=data_format)
                h = tf1kit.layers.average_pooling2d(h, 2, 1, data_format=data_format)
                return tf1kit.layers.flatten(h, data_format=data_format)
        return Net()

    x = tf.constant(np.random.RandomState(1).uniform(size=(2, 8, 8, 3)), tf.float32)
    results = []
    for data_format in ("channels_last", "channels_first"):
        net = make(data_format)
        with tf.GradientTape() as tape:
            y = net(x)
            loss = tf.reduce_sum(y * y)
        results.append((y, tape.gradient(loss, net.trainable_weights)))
    (y_last, g_last), (y_first, g_first) = results
    np.testing.assert_allclose(y_first, y_last, rtol=1e-5)
    for a, b in zip(g_first, g_last):
        np.testing.assert_allclose(a, b, rtol=1e-5)


def test_channels_first_max_pool_has_gradients_on_cpu():
    """The official NCHW max-pool gradient fails on CPU (see the case above);
    tf1kit's channels-first pooling trains."""
    import numpy as np
    import tensorflow as tf

    import tf1kit

    v1 = tf.compat.v1

    class ChannelsFirst(tf.keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x):
            with v1.variable_scope("model"):
                y = tf1kit.layers.conv2d(x, 4, 3, data_format="channels_first")
                return tf1kit.layers.max_pooling2d(y, 2, 2, data_format="channels_first")

    layer = ChannelsFirst()
    x = tf.random.stateless_normal([2, 3, 8, 8], seed=[0, 1])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x))
    grads = tape.gradient(loss, layer.trainable_weights)
    assert all(g is not None and np.isfinite(g.numpy()).all() for g in grads)
    assert float(tf.reduce_sum(tf.abs(grads[0]))) > 0


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_three_dimensional_pooling_gradients_eagerly(data_format):
    """d sum(pool(x)) / dx over non-overlapping 2x2x2 windows: 1/8 everywhere
    for the average, 1 at each window's maximum for the max (numpy's argmax)."""
    import numpy as np
    import tensorflow as tf

    import tf1kit

    values = np.random.RandomState(3).permutation(2 * 4 * 4 * 6 * 3).reshape(2, 4, 4, 6, 3)
    values = values.astype("float32")  # distinct values: one maximum per window
    x = tf.constant(values if data_format == "channels_last"
                    else values.transpose(0, 4, 1, 2, 3))
    windows = values.reshape(2, 2, 2, 2, 2, 3, 2, 3).transpose(0, 1, 3, 5, 7, 2, 4, 6)
    windows = windows.reshape(2, 2, 2, 3, 3, 8)
    winner = windows == windows.max(axis=-1, keepdims=True)
    expected_max = winner.reshape(2, 2, 2, 3, 3, 2, 2, 2).transpose(0, 1, 5, 2, 6, 3, 7, 4)
    expected_max = expected_max.reshape(values.shape).astype("float32")
    expected_avg = np.full(values.shape, 1 / 8, "float32")
    for layer, expected in [(tf1kit.layers.MaxPooling3D(2, 2, data_format=data_format),
                             expected_max),
                            (tf1kit.layers.AveragePooling3D(2, 2, data_format=data_format),
                             expected_avg)]:
        with tf.GradientTape() as tape:
            tape.watch(x)
            total = tf.reduce_sum(layer(x))
        gradient = tape.gradient(total, x).numpy()
        if data_format == "channels_first":
            gradient = gradient.transpose(0, 2, 3, 4, 1)
        np.testing.assert_allclose(gradient, expected, err_msg=type(layer).__name__)
