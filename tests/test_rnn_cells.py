"""tf1kit.rnn cells: TF1's formulas, dropout semantics, errors, install(), plain eager use."""

import numpy as np
import pytest
import tensorflow as tf

import tf1kit
from differential import case, official, ours

v1 = tf.compat.v1
rc = tf1kit.rnn

DEFAULT_KERNELS = case("rnn_default_kernels", '''
def kernel(make_cell):
    with v1.keras.utils.DeterministicRandomTestTool(mode="num_random_ops").scope():
        class Net(tf.keras.layers.Layer):
            @v1.keras.utils.track_tf1_style_variables
            def call(self, x):
                return v1.nn.dynamic_rnn(make_cell(), x, dtype=tf.float32)[0]
        net = Net()
        net(tf.ones([2, 3, 4]))
        return {v.name: v.numpy() for v in net.weights}["rnn/lstm_cell/kernel:0"]

default = kernel(lambda: v1.nn.rnn_cell.LSTMCell(3))
result["default_is_tf1_glorot"] = bool(np.array_equal(default, kernel(
    lambda: v1.nn.rnn_cell.LSTMCell(3, initializer=v1.glorot_uniform_initializer()))))
result["repeatable"] = bool(np.array_equal(default, kernel(lambda: v1.nn.rnn_cell.LSTMCell(3))))
''')


def test_default_kernels_are_tf1_glorot_drawn_through_get_seed():
    """TF1's cells drew a kernel without initializer with glorot_uniform
    through get_seed (add_weight's default, then get_variable). tf_keras'
    cells draw it from Keras 2's generator: not through the tool, so not
    repeatable and not TF1's values (README, differences)."""
    expected, actual = official(DEFAULT_KERNELS), ours(DEFAULT_KERNELS)
    assert expected == {"default_is_tf1_glorot": False, "repeatable": False}
    assert actual == {"default_is_tf1_glorot": True, "repeatable": True}


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_lstm_step_follows_tf1_formula_with_peepholes_projection_and_clipping():
    cell = rc.LSTMCell(3, use_peepholes=True, cell_clip=0.5, num_proj=2, proj_clip=0.3,
                       forget_bias=0.7, initializer=v1.random_uniform_initializer(-1, 1, seed=1))
    rng = np.random.RandomState(0)
    x = rng.uniform(-1, 1, (2, 4)).astype("float32")
    c, m = rng.uniform(-1, 1, (2, 3)).astype("float32"), rng.uniform(-1, 1, (2, 2)).astype("float32")
    output, (new_c, new_m) = cell(x, rc.LSTMStateTuple(c, m))
    w = {v.name.split("lstm_cell/")[1]: v.numpy() for v in cell.weights}
    assert sorted(w) == ["bias:0", "kernel:0", "projection/kernel:0", "w_f_diag:0",
                         "w_i_diag:0", "w_o_diag:0"]
    i, j, f, o = np.split(np.concatenate([x, m], 1) @ w["kernel:0"] + w["bias:0"], 4, axis=1)
    expected_c = np.clip(_sigmoid(f + 0.7 + w["w_f_diag:0"] * c) * c
                         + _sigmoid(i + w["w_i_diag:0"] * c) * np.tanh(j), -0.5, 0.5)
    expected_m = np.clip((_sigmoid(o + w["w_o_diag:0"] * expected_c) * np.tanh(expected_c))
                         @ w["projection/kernel:0"], -0.3, 0.3)
    np.testing.assert_allclose(new_c, expected_c, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(new_m, expected_m, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(output, new_m)
    assert cell.state_size == (3, 2) and cell.output_size == 2


def test_gru_gate_bias_starts_at_one_and_step_follows_tf1_formula():
    cell = rc.GRUCell(2)
    x, h = np.full((1, 3), 0.5, np.float32), np.full((1, 2), -0.25, np.float32)
    output, state = cell(x, h)
    w = {v.name.split("gru_cell/")[1]: v.numpy() for v in cell.weights}
    np.testing.assert_array_equal(w["gates/bias:0"], np.ones(4))
    np.testing.assert_array_equal(w["candidate/bias:0"], np.zeros(2))
    r, u = np.split(_sigmoid(np.concatenate([x, h], 1) @ w["gates/kernel:0"] + 1.0), 2, axis=1)
    candidate = np.tanh(np.concatenate([x, r * h], 1) @ w["candidate/kernel:0"])
    np.testing.assert_allclose(state, u * h + (1 - u) * candidate, rtol=1e-5)
    np.testing.assert_array_equal(output, state)


class Identity(rc.RNNCell):
    """Output = input; state counts steps. Shows masks directly."""

    @property
    def state_size(self):
        return rc.LSTMStateTuple(4, 4)

    @property
    def output_size(self):
        return 4

    def call(self, inputs, state):
        c, h = state
        return inputs, rc.LSTMStateTuple(c + 1.0, h + 1.0)


def test_state_dropout_spares_the_lstm_memory_and_scales_what_it_keeps():
    cell = rc.DropoutWrapper(Identity(), state_keep_prob=0.5, seed=3)
    state = cell.zero_state(64, tf.float32)
    _, (c, h) = cell(tf.ones([64, 4]), state)
    np.testing.assert_array_equal(c, np.ones((64, 4)))  # c is never dropped
    assert set(np.unique(h)) == {0.0, 2.0}  # h: dropped, or kept and divided by 0.5


def test_variational_dropout_reuses_one_mask_across_steps_and_examples():
    cell = rc.DropoutWrapper(Identity(), output_keep_prob=0.5, variational_recurrent=True,
                             dtype=tf.float32, seed=1)
    outputs, _ = v1.nn.dynamic_rnn(cell, tf.ones([3, 6, 4]), dtype=tf.float32)
    outputs = outputs.numpy()
    assert set(np.unique(outputs)) <= {0.0, 2.0}
    np.testing.assert_array_equal(outputs, np.broadcast_to(outputs[:1, :1], outputs.shape))
    plain = rc.DropoutWrapper(Identity(), output_keep_prob=0.5, seed=1)
    fresh, _ = v1.nn.dynamic_rnn(plain, tf.ones([3, 6, 4]), dtype=tf.float32)
    assert len({fresh.numpy()[0, t].tobytes() for t in range(6)}) > 1  # a new mask per step


def test_dropout_state_filter_visitor_chooses_the_state_parts():
    cell = rc.DropoutWrapper(Identity(), state_keep_prob=0.0 + 1e-9, seed=2,
                             dropout_state_filter_visitor=lambda s: rc.LSTMStateTuple(True, False)
                             if isinstance(s, rc.LSTMStateTuple) else True)
    _, (c, h) = cell(tf.ones([2, 4]), cell.zero_state(2, tf.float32))
    np.testing.assert_array_equal(c, np.zeros((2, 4)))
    np.testing.assert_array_equal(h, np.ones((2, 4)))


def test_residual_and_device_wrappers():
    residual = rc.ResidualWrapper(rc.BasicRNNCell(3))
    x = tf.constant(np.random.RandomState(1).uniform(size=(2, 3)), tf.float32)
    state = residual.zero_state(2, tf.float32)
    output, new_state = residual(x, state)
    np.testing.assert_allclose(output, x.numpy() + new_state.numpy(), rtol=1e-6)
    device = rc.DeviceWrapper(rc.GRUCell(2), "/cpu:0")
    assert device.state_size == 2 and device.zero_state(3, tf.float32).shape == (3, 2)


def test_cell_outside_any_decorated_call_keeps_its_variables():
    cell = rc.MultiRNNCell([rc.BasicLSTMCell(3), rc.GRUCell(2)])
    x = tf.ones([2, 4, 3])
    first, _ = v1.nn.dynamic_rnn(cell, x, dtype=tf.float32)
    second, _ = v1.nn.dynamic_rnn(cell, x, dtype=tf.float32)
    np.testing.assert_array_equal(first, second)
    assert [v.name for v in cell.trainable_weights] == [
        "rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel:0",
        "rnn/multi_rnn_cell/cell_0/basic_lstm_cell/bias:0",
        "rnn/multi_rnn_cell/cell_1/gru_cell/gates/kernel:0",
        "rnn/multi_rnn_cell/cell_1/gru_cell/gates/bias:0",
        "rnn/multi_rnn_cell/cell_1/gru_cell/candidate/kernel:0",
        "rnn/multi_rnn_cell/cell_1/gru_cell/candidate/bias:0"]


def test_tf1_graph_mode_with_tf1kit_cells_fills_the_collections():
    """A graph built from tf1kit's own cells (tf1kit installed): TF1 collections."""
    tf1kit.install()
    with tf.Graph().as_default():
        x = v1.placeholder(tf.float32, [2, 4, 3])
        cell = v1.nn.rnn_cell.MultiRNNCell([v1.nn.rnn_cell.LSTMCell(3) for _ in range(2)])
        outputs, _ = v1.nn.dynamic_rnn(cell, x, dtype=tf.float32)
        names = [v.op.name for v in v1.trainable_variables()]
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            value = sess.run(outputs, {x: np.ones((2, 4, 3))})
    assert names == [f"rnn/multi_rnn_cell/cell_{i}/lstm_cell/{n}" for i in (0, 1)
                     for n in ("kernel", "bias")]
    assert value.shape == (2, 4, 3) and np.isfinite(value).all()


# -- errors: clear, naming what is at fault, leaving state as it was ---------

def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="output_keep_prob must be between 0 and 1"):
        rc.DropoutWrapper(rc.GRUCell(2), output_keep_prob=1.5)
    with pytest.raises(ValueError, match="dtype must be provided"):
        rc.DropoutWrapper(rc.GRUCell(2), output_keep_prob=0.5, variational_recurrent=True)
    with pytest.raises(ValueError, match="input_size must be provided"):
        rc.DropoutWrapper(rc.GRUCell(2), input_keep_prob=0.5, variational_recurrent=True,
                          dtype=tf.float32)
    with pytest.raises(TypeError, match="must be callable"):
        rc.DropoutWrapper(rc.GRUCell(2), dropout_state_filter_visitor=3)
    with pytest.raises(ValueError, match="at least one cell"):
        rc.MultiRNNCell([])
    with pytest.raises(TypeError, match="cells must be a list or tuple"):
        rc.MultiRNNCell(rc.GRUCell(2))
    with pytest.raises(ValueError, match="state_is_tuple is not set"):
        rc.MultiRNNCell([rc.LSTMCell(2)], state_is_tuple=False)
    with pytest.raises(TypeError, match="is not an RNNCell"):
        rc.DropoutWrapper(object())


def test_unknown_input_depth_names_the_cell():
    cell = rc.LSTMCell(2, name="encoder")

    @tf.function(input_signature=[tf.TensorSpec([2, None])])
    def step(x):
        return cell(x, cell.zero_state(2, tf.float32))[0]

    with pytest.raises(ValueError, match="LSTMCell 'encoder': expected inputs.shape.-1. to be known"):
        step(tf.ones([2, 3]))
    assert cell.weights == [] and not cell.built


def test_num_unit_shards_inside_a_decorated_call_names_the_variable():
    class Sharded(tf.keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x):
            return v1.nn.dynamic_rnn(rc.LSTMCell(4, num_unit_shards=2), x, dtype=tf.float32)[0]

    layer = Sharded()
    with pytest.raises(ValueError, match="rnn/lstm_cell/kernel was requested with partitioner"):
        layer(tf.ones([2, 3, 3]))
    assert layer.weights == []
    assert v1.get_variable_scope().name == ""


def test_install_points_rnn_cell_at_tf1kit_and_uninstall_restores():
    from tensorflow.python.ops import rnn_cell_impl

    tf1kit.install()
    assert v1.nn.rnn_cell is tf1kit.rnn
    assert rnn_cell_impl.LSTMCell is rc.LSTMCell
    import tensorflow.compat.v1 as tf_v1

    assert tf_v1.nn.rnn_cell.MultiRNNCell is rc.MultiRNNCell
    tf1kit.uninstall()
    try:
        assert v1.nn.__dict__["rnn_cell"] is not tf1kit.rnn
        assert rnn_cell_impl.LSTMCell is not rc.LSTMCell
        assert rnn_cell_impl.LSTMCell.__module__.startswith("tensorflow.python.keras")
    finally:
        tf1kit.install()
    assert v1.nn.rnn_cell is tf1kit.rnn


def test_dropout_seed_is_tf1s_md5_salt_of_the_wrapper_seed():
    """TF1 seeded each dropped part with md5(f"{seed}{part}_{index}")[:8] & 0x7fffffff."""
    import hashlib

    def op_seed(part, index):
        return int(hashlib.md5(f"7{part}_{index}".encode()).hexdigest()[:8], 16) & 0x7FFFFFFF

    x = tf.ones([4, 4])
    tf.random.set_seed(3)
    output, _ = rc.DropoutWrapper(Identity(), output_keep_prob=0.5, seed=7)(
        x, Identity().zero_state(4, tf.float32))
    tf.random.set_seed(3)
    expected = tf.nn.dropout(x, rate=0.5, seed=op_seed("output", 0))
    np.testing.assert_array_equal(output, expected)


OBJECT_NET = '''
class RecurrentNet(tf.keras.layers.Layer):
    @v1.keras.utils.track_tf1_style_variables
    def call(self, x):
        cell = v1.nn.rnn_cell.MultiRNNCell(
            [v1.nn.rnn_cell.LSTMCell(3, use_peepholes=True), v1.nn.rnn_cell.GRUCell(2)])
        return v1.nn.dynamic_rnn(cell, x, dtype=tf.float32)[0]


X = tf.constant(np.random.RandomState(4).uniform(-1, 1, (2, 5, 3)).astype("float32"))
'''

OBJECT_CHECKPOINT = case("rnn_object_checkpoint", OBJECT_NET + '''
net = RecurrentNet()
net(X)
for i, variable in enumerate(net.weights):
    variable.assign(tf.random.stateless_uniform(variable.shape, seed=[i, 1], minval=-0.5, maxval=0.5))
result["outputs"] = net(X)
result["path"] = tf.train.Checkpoint(model=net).write(ARTIFACTS + "/object")
''')


def test_object_checkpoints_of_the_official_shim_and_of_tf1kit_restore_here(tmp_path):
    """tf.train.Checkpoint keys (`_tf1_style_var_store/_vars/<TF1 name>`) are the
    official shim's: its checkpoint restores into tf1kit, and tf1kit's round-trips."""
    tf1kit.install()
    namespace = {"np": np, "tf": tf, "v1": v1}
    exec(OBJECT_NET, namespace)
    expected = official(OBJECT_CHECKPOINT)
    net = namespace["RecurrentNet"]()
    net(namespace["X"])
    tf.train.Checkpoint(model=net).read(expected["path"]).assert_consumed()
    np.testing.assert_allclose(net(namespace["X"]), expected["outputs"], rtol=1e-6)
    path = tf.train.Checkpoint(model=net).write(str(tmp_path / "ours"))
    again = namespace["RecurrentNet"]()
    again(namespace["X"])
    tf.train.Checkpoint(model=again).read(path).assert_consumed()
    np.testing.assert_allclose(again(namespace["X"]), expected["outputs"], rtol=1e-6)


def test_a_single_tensor_state_for_a_tuple_state_lstm_names_the_cell():
    """A [batch, 2n] tensor would unpack along the batch axis without a word."""
    cell = rc.LSTMCell(3, name="decoder")
    with pytest.raises(ValueError, match="LSTMCell 'decoder' was built with state_is_tuple=True"):
        cell(tf.ones([2, 4]), tf.zeros([2, 6]))
    with pytest.raises(ValueError, match=r"BasicLSTMCell 'basic_lstm_cell(_\d+)?'"):
        rc.BasicLSTMCell(3)(tf.ones([2, 4]), tf.zeros([2, 6]))
