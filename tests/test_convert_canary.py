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


def test_rnn_functions_are_module_attributes_that_can_be_replaced():
    # recording.py records dynamic_rnn & co. by replacing the public names for
    # one trace (tf.compat.v1.nn is a TFModuleWrapper) and putting them back.
    import inspect

    original = v1.nn.dynamic_rnn
    assert "dynamic_rnn" in v1.nn.__dict__
    v1.nn.dynamic_rnn = "replaced"
    try:
        assert tf.compat.v1.nn.dynamic_rnn == "replaced"
    finally:
        v1.nn.dynamic_rnn = original
    assert v1.nn.dynamic_rnn is original
    # The argument names the converters read.
    for name, parameters in {
            "dynamic_rnn": ["cell", "inputs", "sequence_length", "initial_state",
                            "time_major", "scope"],
            "bidirectional_dynamic_rnn": ["cell_fw", "cell_bw", "initial_state_fw"],
            "static_rnn": ["cell", "inputs", "initial_state", "sequence_length"],
            "dropout": ["x", "keep_prob", "noise_shape", "seed", "rate"]}.items():
        signature = inspect.signature(getattr(v1.nn, name)).parameters
        assert all(p in signature for p in parameters), name


def test_slim_functions_carry_their_arg_scope_key_and_layer_norm_epsilon():
    # recording.py reads the arguments an arg_scope adds; functions.py writes
    # slim's layer_norm epsilon (1e-12, fixed in its source).
    import numpy as np
    import tf_slim as slim
    from tf_slim.ops.arg_scope import current_arg_scope

    with slim.arg_scope([slim.layer_norm], center=False):
        assert current_arg_scope()[slim.layer_norm._key_op] == {"center": False}
    with tf.Graph().as_default(), v1.Session() as session:
        x = tf.constant([[0.0, 2e-6]])  # variance 1e-12: epsilon counts as much
        output = slim.layer_norm(x, begin_norm_axis=-1, begin_params_axis=-1)
        session.run(v1.global_variables_initializer())
        value = session.run(output)
    np.testing.assert_allclose(value[0], [-np.sqrt(0.5), np.sqrt(0.5)], rtol=1e-3)


def test_keras_rnn_return_structure_and_cell_keyword_handling():
    # rnn.py unpacks `output, *states` (a stacked cell's state nested per cell),
    # Bidirectional's `y_fw, y_bw, *states_fw, *states_bw` and names, and the
    # cell wrappers pass `training` to cells whose call does not take it.
    class OneState(keras.layers.Layer):  # like the generated GRUCell: no get_initial_state
        state_size = output_size = 2

        def call(self, inputs, states):
            return inputs[:, :2] + states[0], [inputs[:, :2] + states[0]]

    x = tf.ones([2, 3, 4])
    stacked = keras.layers.RNN(keras.layers.StackedRNNCells(
        [keras.layers.LSTMCell(4), OneState()]), return_state=True)
    output, lstm_state, one_state = stacked(x)
    assert len(lstm_state) == 2 and tf.is_tensor(one_state)
    output, state = keras.layers.RNN(OneState(), return_state=True)(x)
    assert tf.is_tensor(state)
    bidirectional = keras.layers.Bidirectional(
        keras.layers.RNN(keras.layers.GRUCell(2), return_sequences=True, return_state=True,
                         name="fw"),
        backward_layer=keras.layers.RNN(keras.layers.GRUCell(2), return_sequences=True,
                                        return_state=True, go_backwards=True, name="bw"),
        merge_mode=None)
    assert len(bidirectional(x)) == 4
    assert bidirectional.forward_layer.name == "forward_fw"
    assert bidirectional.backward_layer.name == "bw"
    dense = keras.layers.Dense(2)
    assert dense(tf.ones([1, 2]), training=True).shape == (1, 2)
