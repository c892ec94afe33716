"""Canary: the TensorFlow/Keras internals `tf1kit.convert` relies on.

(To fold into tests/test_canary_internals.py.) Each test names what would
break in `convert/` if a new TensorFlow or Keras changed the behaviour.
"""

import tensorflow as tf
import keras

import tf1kit
from tf1kit.decorator import find_store

v1 = tf.compat.v1


def test_keras_layer_call_goes_through_an_instance_attribute():
    # recording.py borrows `call` on built-in Keras layers to see their calls.
    layer = keras.layers.Dense(2)
    seen = []
    original = layer.call

    def spy(*args, **kwargs):
        seen.append(args[0].shape)
        return original(*args, **kwargs)

    object.__setattr__(layer, "call", spy)
    layer(tf.ones([3, 4]))
    object.__delattr__(layer, "call")
    assert seen == [(3, 4)]
    assert [type(l).__name__ for l in keras.Sequential([layer])._flatten_layers()] == [
        "Sequential", "Dense"]


def test_captured_variables_and_op_tracebacks_in_a_traced_function():
    # recording.py maps captured placeholders to variables by handle, and
    # reports the user's line from op.traceback.
    variable = keras.Variable(tf.ones([2, 2]))

    def forward(x):
        return tf.matmul(x, variable.value)

    graph = tf.function(forward).get_concrete_function(tf.TensorSpec([None, 2])).graph
    externals = [external for external, _ in graph.captures]
    assert any(external is variable.value.handle for external in externals)
    matmul = next(op for op in graph.get_operations() if op.type == "MatMul")
    assert any(frame.filename == __file__ and frame.name == "forward"
               for frame in matmul.traceback)


def test_get_variable_reaches_the_stores_get_variable_method():
    # recording.py wraps the store's get_variable to see initializers and regularizers.
    class Layer(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x):
            return x * v1.get_variable("w", [], initializer=v1.ones_initializer())

    layer = Layer()
    layer(tf.ones([1]))
    store = find_store(layer)
    requests = []
    original = store.get_variable
    store.__dict__["get_variable"] = lambda *a, **k: requests.append(a[0]) or original(*a, **k)
    try:
        layer(tf.ones([1]))
    finally:
        del store.__dict__["get_variable"]
    assert requests == ["w"]


def test_eager_template_caches_its_variable_scope_context_manager():
    # recording.py puts this cache back after tracing (else later eager calls
    # of the template run in the trace's graph).
    template = v1.make_template("scale", lambda x: x * v1.get_variable(
        "s", [], initializer=v1.ones_initializer()))
    assert template._variable_scope_context_manager is None
    tf.function(template)(tf.ones([1]))
    assert template._variable_scope_context_manager is not None


def test_fused_batch_norm_kernel_averages_with_exponential_avg_factor():
    # The generated FusedBatchNormalization calls this raw op.
    x = tf.reshape(tf.range(8, dtype=tf.float32), [2, 2, 2, 1])
    _, mean, variance, _, _, _ = tf.raw_ops.FusedBatchNormV3(
        x=x, scale=tf.ones([1]), offset=tf.zeros([1]), mean=tf.zeros([1]),
        variance=tf.ones([1]), epsilon=1e-3, exponential_avg_factor=0.5,
        data_format="NHWC", is_training=True)
    values = tf.reshape(x, [-1]).numpy()
    assert abs(float(mean[0]) - 0.5 * values.mean()) < 1e-6
    unbiased = values.var() * 8 / 7
    assert abs(float(variance[0]) - (0.5 + 0.5 * unbiased)) < 1e-5
