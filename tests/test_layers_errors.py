"""Bad arguments raise TF1's exceptions, naming the argument or layer at fault."""

import pytest

from differential import case, official, ours

ERRORS = case("layers_errors", '''
x4 = tf.ones([2, 5, 5, 3])
x2 = tf.ones([2, 3])
attempts = {
    "padding": lambda: v1.layers.conv2d(x4, 2, 3, padding="full"),
    "data_format": lambda: v1.layers.conv2d(x4, 2, 3, data_format="NHWC"),
    "conv_rank": lambda: v1.layers.conv2d(x2, 2, 3),
    "kernel_size": lambda: v1.layers.conv2d(x4, 2, (1, 2, 3)),
    "strides_and_dilation": lambda: v1.layers.conv2d(x4, 2, 3, strides=2, dilation_rate=2),
    "causal_2d": lambda: v1.layers.conv2d(x4, 2, 3, padding="causal"),
    "pool_strides_none": lambda: v1.layers.max_pooling2d(x4, 2, None),
    "pool_strides_missing": lambda: v1.layers.max_pooling2d(x4, 2),
    "pool_rank": lambda: v1.layers.max_pooling2d(tf.ones([2, 5, 3]), 2, 2),
    "pool_padding": lambda: v1.layers.average_pooling1d(tf.ones([2, 5, 3]), 2, 2, "causal"),
    "dense_rank": lambda: v1.layers.dense(tf.ones([3]), 2),
    "dense_kwarg": lambda: v1.layers.Dense(3, not_an_argument=1),
    "bn_axis": lambda: v1.layers.batch_normalization(x2, axis=5),
    "bn_renorm_clipping": lambda: v1.layers.BatchNormalization(renorm=True,
                                                               renorm_clipping={"rmx": 1}),
    "dropout_rate": lambda: v1.layers.Dropout(1.5),
    "transpose_rank": lambda: v1.layers.conv2d_transpose(tf.ones([2, 5, 5, 5, 3]), 2, 3),
}
for label, attempt in attempts.items():
    try:
        attempt()
        result[label] = "no error"
    except Exception as exc:
        result[label] = [type(exc).__name__, str(exc)]
''')

KEYWORDS = {
    "padding": "padding",
    "data_format": "data_format",
    "conv_rank": "min_ndim=4, found ndim=2",
    "kernel_size": "kernel_size",
    "strides_and_dilation": "dilation_rate",
    "causal_2d": "",
    "pool_strides_none": "strides",
    "pool_strides_missing": "strides",
    "pool_rank": "expected ndim=4, found ndim=3",
    "pool_padding": "padding",
    "dense_rank": "min_ndim=2, found ndim=1",
    "dense_kwarg": "not_an_argument",
    "bn_axis": "axis",
    "bn_renorm_clipping": "renorm_clipping",
    "dropout_rate": "rate",
    "transpose_rank": "",
}


@pytest.mark.parametrize("label", sorted(KEYWORDS))
def test_error_type_and_message_match_official(label):
    expected, actual = official(ERRORS)[label], ours(ERRORS)[label]
    assert expected != "no error" and actual != "no error", (expected, actual)
    assert actual[0] == expected[0], (expected, actual)
    assert KEYWORDS[label] in expected[1], expected
    assert KEYWORDS[label] in actual[1], actual


def test_failed_call_leaves_owner_state_unchanged():
    """A rank error inside a decorated call creates no variable and shifts no
    auto-name: the next good call still makes model/dense."""
    import tensorflow as tf

    import tf1kit

    class Model(tf.keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x):
            with tf.compat.v1.variable_scope("model"):
                return tf1kit.layers.dense(tf1kit.layers.conv2d(x, 2, 1), 3)

    model = Model()
    with pytest.raises(ValueError, match="min_ndim=4"):
        model(tf.ones([2, 3]))
    assert model.weights == []
    model(tf.ones([1, 2, 2, 3]))
    assert sorted(v.name for v in model.weights) == [
        "model/conv2d/bias:0", "model/conv2d/kernel:0",
        "model/dense/bias:0", "model/dense/kernel:0"]


def test_sharing_a_variable_with_another_shape_names_it():
    import tensorflow as tf

    import tf1kit

    class Model(tf.keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x, y):
            a = tf1kit.layers.dense(x, 3, name="shared")
            return a, tf1kit.layers.dense(y, 3, name="shared", reuse=True)

    with pytest.raises(ValueError, match="shared/kernel"):
        Model()(tf.ones([1, 2]), tf.ones([1, 4]))
