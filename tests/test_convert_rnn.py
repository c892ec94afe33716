"""`to_keras` on the RNN cells run through dynamic_rnn, static_rnn and the bidirectional ones.

The models are in convert_cases.py (test_convert.py checks that each trains
like the shim and runs alone); here: what the source says, the cells' weights
against Keras' own cells, DropoutWrapper, and what is reported.
"""

import numpy as np
import pytest
import tensorflow as tf
import keras

import tf1kit
from convert_cases import (LanguageModel, assert_trains_the_same, batch, converted,
                           line_carrying, zoo_inputs)

v1 = tf.compat.v1
rc = v1.nn.rnn_cell


def line_of(marker: str) -> str:
    return line_carrying(marker, __file__)


# -- what the source says ----------------------------------------------------------

def test_lstm_options_sequence_lengths_and_final_state():
    layer, _, result = converted("rnn_lstm_options")
    source = result.source
    assert ("LSTMCell(\n                5, forget_bias=0.5, use_peepholes=True, cell_clip=0.8, "
            "num_proj=4, proj_clip=0.6,") in source
    assert "return_sequences=True, return_state=True, zero_output_for_mask=True" in source
    # TF1's sequence_length is the RNN's mask; the final state is unpacked as (c, h).
    assert ("x, c, h = self.rnn(features['x'], "
            "mask=tf.sequence_mask(features['lengths'], maxlen=4))") in source
    assert result.weight_map == {
        "rnn/lstm_cell/kernel": "lstm_options/rnn/lstm_cell/kernel",
        "rnn/lstm_cell/bias": "lstm_options/rnn/lstm_cell/bias",
        "rnn/lstm_cell/w_f_diag": "lstm_options/rnn/lstm_cell/w_f_diag",
        "rnn/lstm_cell/w_i_diag": "lstm_options/rnn/lstm_cell/w_i_diag",
        "rnn/lstm_cell/w_o_diag": "lstm_options/rnn/lstm_cell/w_o_diag",
        "rnn/lstm_cell/projection/kernel": "lstm_options/rnn/lstm_cell/projection_kernel"}


def test_static_rnn_takes_the_unstacked_sequence_and_returns_its_steps():
    source = converted("rnn_static_gru")[2].source
    assert "x, h = self.rnn(x, initial_state=[tf.tanh(unpack_0)])" in source
    assert "outputs = tf.unstack(x, axis=1)" in source
    assert "ResidualWrapper(\n                GRUCell(" in source
    assert "bias_initializer=keras.initializers.Constant(value=0.5)" in source
    # static_bidirectional_rnn: outputs concatenated per step, named after its scope.
    assert 'merge_mode="concat", name="both_ways")' in source
    assert "x_2, _, bw_h = self.both_ways(" in source


def test_bidirectional_rnn_is_keras_bidirectional_with_a_backward_layer():
    result = converted("rnn_bidirectional")[2]
    source = result.source
    assert "self.bidirectional_rnn = keras.layers.Bidirectional(" in source
    assert 'LSTMCell(4, forget_bias=0.3, name="basic_lstm_cell")' in source
    assert 'BasicRNNCell(4, activation="relu", name="basic_rnn_cell")' in source
    assert "go_backwards=True" in source and "merge_mode=None" in source
    # Unused parts of the state are `_`; the output directions keep their names.
    assert "outputs_fw, outputs_bw, _, fw_h, bw_h = self.bidirectional_rnn(" in source
    assert result.weight_map["bidirectional_rnn/bw/basic_rnn_cell/kernel"] == \
        "bidirectionallstm/bidirectional_rnn/bw/basic_rnn_cell/kernel"


def test_stacked_cells_time_major_and_a_zero_state():
    source = converted("rnn_stacked_time_major")[2].source
    # DropoutWrapper(keep 1) and DeviceWrapper change nothing: the bare cells remain.
    assert ('keras.layers.StackedRNNCells(\n                [GRUCell(4, name="cell_0"), '
            'LSTMCell(4, name="cell_1")], name="multi_rnn_cell")') in source
    # cell.zero_state is Keras' own initial state; the user's transpose is undone.
    assert "x, h_0, (_, h_1) = self.rnn(x)" in source
    assert "x = tf.transpose(x, perm=[1, 0, 2])" in source
    assert "DropoutWrapper" not in source and "initial_state" not in source


# -- the cells against Keras' own ---------------------------------------------------------

def _cells():
    lstm = converted("rnn_bidirectional")[2].model.bidirectional_rnn.forward_layer.cell
    basic = converted("rnn_bidirectional")[2].model.bidirectional_rnn.backward_layer.cell
    gru = converted("rnn_static_gru")[2].model.rnn.cell.cell
    return {"lstm": (lstm, keras.layers.LSTMCell(4, unit_forget_bias=False)),
            "gru": (gru, keras.layers.GRUCell(3, reset_after=False)),
            "basic_rnn": (basic, keras.layers.SimpleRNNCell(4, activation="relu"))}


@pytest.mark.parametrize("kind", ["lstm", "gru", "basic_rnn"])
def test_keras_weights_make_keras_own_cell_compute_the_same_step(kind):
    cell, keras_cell = _cells()[kind]
    depth = cell.kernel.shape[0] - cell.units if kind != "gru" else \
        cell.gates_kernel.shape[0] - cell.units
    x = batch(5, depth, seed=3)
    states = [batch(5, cell.units, seed=4, scale=0.5), batch(5, cell.units, seed=5, scale=0.5)]
    keras_cell.build((5, depth))
    keras_cell.set_weights([np.asarray(w) for w in cell.keras_weights()])
    if kind == "lstm":
        c, h = states
        output, (new_c, new_h) = cell(x, [c, h])
        keras_output, (keras_h, keras_c) = keras_cell(x, [h, c])  # Keras: [h, c]
        np.testing.assert_allclose(keras_c, new_c, atol=1e-6)
    else:
        output, _ = cell(x, states[:1])
        keras_output, _ = keras_cell(x, states[:1])
    np.testing.assert_allclose(keras_output, output, atol=1e-6)
    # The forget bias, reordered gates and split kernels all matter: the raw
    # TF1 weights give another step.
    if kind == "lstm":
        raw = cell.kernel.numpy()
        keras_cell.set_weights([raw[:depth], raw[depth:], cell.bias.numpy()])
        assert np.abs(keras_cell(x, [states[1], states[0]])[0] - output).max() > 1e-3


def test_keras_weights_refuse_peepholes_and_projection():
    cell = converted("rnn_lstm_options")[2].model.rnn.cell
    with pytest.raises(ValueError, match="no peepholes, projection or clipping"):
        cell.keras_weights()


# -- DropoutWrapper -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def language_model_with_dropout():
    """The zoo's language model with keep_prob 0.5 while training (1 at inference)."""
    layer, tokens = LanguageModel(keep_prob=0.5), zoo_inputs("token_inputs")
    layer(tokens)
    return layer, tokens, tf1kit.to_keras(layer, tokens)


def test_dropout_wrapper_drops_only_while_training(language_model_with_dropout):
    layer, tokens, result = language_model_with_dropout
    assert result.complete, result.summary()
    source = result.source
    assert source.count("DropoutWrapper(\n") == 2
    assert source.count('output_rate=0.5, name="cell_') == 2
    assert "x = self.rnn(x, training=training)" in source
    # Inference is exact; training draws masks (TF1's masks cannot be reproduced).
    np.testing.assert_allclose(result.model(tokens, training=False),
                               layer(tokens, training=False), atol=1e-5)
    wrapper = result.model.Model.rnn.cell.cells[0]
    x, states = batch(100, 8, seed=6), [tf.zeros([100, 8]), tf.zeros([100, 8])]
    expected, _ = wrapper.cell(x, states)
    dropped, _ = wrapper(x, states, training=True)
    kept = np.asarray(dropped) != 0
    assert 0.4 < kept.mean() < 0.6
    np.testing.assert_allclose(np.asarray(dropped)[kept], 2 * np.asarray(expected)[kept],
                               rtol=1e-6)
    np.testing.assert_array_equal(wrapper(x, states, training=False)[0], expected)


def test_dropout_wrapper_without_a_training_switch_always_drops():
    class AlwaysDropped(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x):
            cell = rc.DropoutWrapper(rc.MultiRNNCell([rc.GRUCell(3), rc.LSTMCell(3)]),
                                     input_keep_prob=0.8, state_keep_prob=0.9)
            return v1.nn.dynamic_rnn(cell, x, dtype=tf.float32)[0]

    layer, x = AlwaysDropped(), batch(2, 3, 4)
    layer(x)
    result = tf1kit.to_keras(layer, x)
    source = result.source
    assert "input_rate=0.2" in source and "state_rate=0.1" in source
    # TF1 drops the GRU's state and the LSTM's h, never an LSTM's c.
    assert "dropped_states=(0, 2)" in source
    assert "self.rnn(x, training=True)" in source
    wrapper = result.model.rnn.cell
    states = [tf.ones([400, 3]), [tf.ones([400, 3]), tf.ones([400, 3])]]
    wrapper.input_rate = 0.0
    _, (gru_h, (lstm_c, lstm_h)) = wrapper(tf.zeros([400, 4]), states, training=True)
    _, (gru_clean, (c_clean, h_clean)) = wrapper.cell(tf.zeros([400, 4]), states)
    np.testing.assert_array_equal(lstm_c, c_clean)
    for dropped, clean in ((gru_h, gru_clean), (lstm_h, h_clean)):
        assert 0.05 < float(tf.reduce_mean(tf.cast(dropped == 0, tf.float32))) < 0.15


# -- reported, not approximated -------------------------------------------------------------

class MinimalRNNCell(rc.RNNCell):
    """A cell of the user's own (the RNNCell docstring's example)."""

    @property
    def state_size(self):
        return 3

    @property
    def output_size(self):
        return 3

    def call(self, inputs, state):
        w = v1.get_variable("w", [inputs.shape[-1] + 3, 3])
        output = tf.tanh(tf.matmul(tf.concat([inputs, state], 1), w))
        return output, output


class CustomCellDynamic(keras.layers.Layer):
    @tf1kit.track_tf1_style_variables
    def call(self, x):
        return v1.nn.dynamic_rnn(MinimalRNNCell(), x, dtype=tf.float32)[0]  # marker: custom


class VariationalDropout(keras.layers.Layer):
    @tf1kit.track_tf1_style_variables
    def call(self, x):
        cell = rc.DropoutWrapper(rc.GRUCell(3), output_keep_prob=0.5,
                                 variational_recurrent=True, dtype=tf.float32)
        return v1.nn.dynamic_rnn(cell, x, dtype=tf.float32)[0]  # marker: variational


@pytest.mark.parametrize("layer_class, marker, reason", [
    (CustomCellDynamic, "custom", "MinimalRNNCell is not one of TF1's cells"),
    (VariationalDropout, "variational", "variational_recurrent=True"),
])
def test_an_rnn_that_cannot_be_converted_is_reported_at_the_users_line(layer_class, marker,
                                                                        reason):
    layer, x = layer_class(), batch(2, 3, 4)
    layer(x)
    result = tf1kit.to_keras(layer, x)
    assert not result.complete and result.model is None
    assert len(result.unsupported) == 1, result.summary()
    found = result.unsupported[0]
    assert found.what == "dynamic_rnn" and reason in found.reason
    assert found.location == line_of(f"# marker: {marker}")
    # The source raises there, saying where and why.
    assert f'raise NotImplementedError(\n            "{found.location}: dynamic_rnn: ' \
        f'{found.reason}")' in result.source


def test_a_custom_cell_under_static_rnn_is_read_op_by_op():
    # static_rnn unrolls the steps in the graph: the cell's ops are read like any others.
    class CustomCellStatic(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x):
            outputs, _ = v1.nn.static_rnn(MinimalRNNCell(), tf.unstack(x, axis=1),
                                          dtype=tf.float32)
            return tf.stack(outputs, axis=1)

    layer, x = CustomCellStatic(), batch(2, 3, 4)
    layer(x)
    result = tf1kit.to_keras(layer, x)
    assert result.complete, result.summary()
    assert any("written op by op: MinimalRNNCell is not one of TF1's cells" in note
               for note in result.notes)
    assert "keras.layers.RNN" not in result.source
    assert_trains_the_same(layer, result.model, result.weight_map, x)


def test_recorded_functions_are_put_back_even_when_the_trace_fails():
    import tf_slim as slim

    originals = (v1.nn.dynamic_rnn, v1.nn.dropout, tf.nn.dropout, slim.layer_norm)
    bidirectional = v1.nn.bidirectional_dynamic_rnn

    class FailsWhenTraced(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x):
            outputs = v1.nn.dynamic_rnn(rc.GRUCell(2), x, dtype=tf.float32)[0]
            if not tf.executing_eagerly():
                raise RuntimeError("only eagerly")
            return outputs

    layer, x = FailsWhenTraced(), batch(2, 3, 4)
    layer(x)
    assert v1.nn.dynamic_rnn is originals[0]
    with pytest.raises(RuntimeError, match="only eagerly"):
        tf1kit.to_keras(layer, x)
    assert (v1.nn.dynamic_rnn, v1.nn.dropout, tf.nn.dropout, slim.layer_norm) == originals
    layer, x = converted("rnn_bidirectional")[:2]
    tf1kit.to_keras(layer, x)  # a conversion that succeeds puts them back too
    assert v1.nn.bidirectional_dynamic_rnn is bidirectional


@pytest.mark.parametrize("time_major", [False, True])
def test_rnns_stacked_in_a_python_loop(time_major):
    class Layers(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x):
            if time_major:
                x = tf.transpose(x, [1, 0, 2])
            for number in range(3):
                with v1.variable_scope(f"layer_{number}"):
                    x, _ = v1.nn.dynamic_rnn(rc.GRUCell(3), x, dtype=tf.float32,
                                             time_major=time_major)
            return x

    layer, x = Layers(), batch(2, 5, 3)
    layer(x)
    result = tf1kit.to_keras(layer, x)
    assert result.complete, result.summary()
    if time_major:  # each RNN transposes its input and output: no plain loop
        assert "for layer in" not in result.source
    else:
        assert "for layer in self.layers_:\n            x = layer(x)" in result.source
    assert_trains_the_same(layer, result.model, result.weight_map, x)


def test_a_loop_the_converter_did_not_see_called_is_reported_as_a_loop():
    dynamic_rnn = v1.nn.dynamic_rnn  # imported by name, before the conversion

    class ImportedByName(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x):
            return dynamic_rnn(rc.GRUCell(2), x, dtype=tf.float32)[0]  # marker: by name

    layer, x = ImportedByName(), batch(2, 3, 4)
    layer(x)
    result = tf1kit.to_keras(layer, x)
    loops = [u for u in result.unsupported if u.what.startswith("While")]
    assert loops and "a tf.while_loop" in loops[0].reason, result.summary()
    assert loops[0].location == line_of("# marker: by name")
