"""TF1 rnn-cell models shared by the rnn differential cases (no tests here).

`MODELS` is TF1 source: each `build_<name>(x)` makes cells, runs one of TF's
rnn functions and returns `(tensors, cells)`. The same source runs in three
worlds: in a TF1 graph and session in the oracle process (`GRAPH_RUNNER`),
under the official shim and under tf1kit, eagerly inside a decorated Keras
layer (`EAGER_RUNNER`). Both runners report, per model: variable names,
shapes and initial values, the outputs, the gradients of
`sum(outputs ** 2)` by variable name, and the variable names that chosen
cells list as `trainable_weights`. Random ops draw seeds from the
determinism tool (num_random_ops), so initial values and dropout masks line
up wherever the worlds make their random ops in the same order.
"""

MODELS = '''
rc = v1.nn.rnn_cell
T, B, D = 5, 2, 3


def build_lstm_stack(x):
    """dynamic_rnn, MultiRNNCell of a wrapped peephole/projection LSTM and a
    concatenated-state LSTM with its own initializer, sequence lengths."""
    first = rc.DropoutWrapper(
        rc.LSTMCell(4, use_peepholes=True, num_proj=3, cell_clip=0.6, proj_clip=0.4,
                    forget_bias=0.5), output_keep_prob=1.0)
    second = rc.LSTMCell(3, state_is_tuple=False,
                         initializer=v1.random_uniform_initializer(-0.3, 0.3))
    cell = rc.MultiRNNCell([first, second])
    outputs, state = v1.nn.dynamic_rnn(cell, x, dtype=tf.float32, sequence_length=[5, 3])
    return {"outputs": outputs, "state": state}, {"multi": cell, "wrapper": first,
                                                  "lstm": second}


def build_gru_bidirectional(x):
    """bidirectional_dynamic_rnn: residual GRU forward, initialized GRU backward."""
    forward = rc.ResidualWrapper(rc.GRUCell(3))
    backward = rc.GRUCell(2, kernel_initializer=v1.orthogonal_initializer(),
                          bias_initializer=v1.constant_initializer(0.3))
    outputs, states = v1.nn.bidirectional_dynamic_rnn(
        forward, backward, x, dtype=tf.float32, sequence_length=[4, 5])
    return {"outputs": outputs, "states": states}, {"forward": forward, "backward": backward}


def build_static_dropout(x):
    """static_rnn (unrolled, so one dropout op per step in every world)."""
    cell = rc.DropoutWrapper(rc.BasicLSTMCell(4, forget_bias=0.0), input_keep_prob=0.8,
                             output_keep_prob=0.7, state_keep_prob=0.6, seed=5)
    outputs, state = v1.nn.static_rnn(cell, tf.unstack(x, axis=1), dtype=tf.float32)
    return {"outputs": outputs, "state": state}, {"basic_lstm": cell.wrapped_cell}


def build_variational(x):
    """dynamic_rnn with variational dropout: one mask drawn at construction."""
    cell = rc.DropoutWrapper(rc.BasicRNNCell(4, activation="relu"), input_keep_prob=0.8,
                             output_keep_prob=0.7, state_keep_prob=0.6,
                             variational_recurrent=True, input_size=D, dtype=tf.float32,
                             seed=7)
    outputs, state = v1.nn.dynamic_rnn(cell, x, dtype=tf.float32)
    return {"outputs": outputs, "state": state}, {}


def build_static_bidirectional(x):
    forward = rc.DeviceWrapper(rc.GRUCell(2), "/cpu:0")
    backward = rc.BasicLSTMCell(2, state_is_tuple=False)
    outputs, state_fw, state_bw = v1.nn.static_bidirectional_rnn(
        forward, backward, tf.unstack(x, axis=1), dtype=tf.float32)
    return {"outputs": outputs, "state_fw": state_fw, "state_bw": state_bw}, {}


def build_raw(x):
    """raw_rnn with a loop_fn feeding time-major inputs from a TensorArray."""
    cell = rc.LSTMCell(3, use_peepholes=True)
    inputs = tf.TensorArray(tf.float32, size=T).unstack(tf.transpose(x, [1, 0, 2]))

    def loop_fn(time, cell_output, cell_state, loop_state):
        state = cell.zero_state(B, tf.float32) if cell_output is None else cell_state
        finished = tf.broadcast_to(time >= T, [B])
        next_input = tf.cond(tf.reduce_all(finished), lambda: tf.zeros([B, D]),
                             lambda: inputs.read(tf.minimum(time, T - 1)))
        return finished, next_input, state, cell_output, None

    outputs, state, _ = v1.nn.raw_rnn(cell, loop_fn)
    return {"outputs": tf.transpose(outputs.stack(), [1, 0, 2]), "state": state}, {}


class MinimalCell(rc.RNNCell):
    """A user cell that makes its variables with get_variable in call."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    @property
    def state_size(self):
        return self.units

    @property
    def output_size(self):
        return self.units

    def call(self, inputs, state):
        w = v1.get_variable("w", [inputs.shape[-1] + self.units, self.units])
        b = v1.get_variable("b", [self.units], initializer=v1.constant_initializer(0.1))
        output = tf.tanh(tf.matmul(tf.concat([inputs, state], 1), w) + b)
        return output, output


class BuiltCell(rc.RNNCell):
    """A user cell that builds with add_variable and keeps a nested state."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    @property
    def state_size(self):
        return (self.units, self.units)

    @property
    def output_size(self):
        return self.units

    def build(self, inputs_shape):
        self.kernel = self.add_variable("kernel", [inputs_shape[-1], self.units])
        self.recurrent = self.add_variable(
            "recurrent", [self.units, self.units], initializer=v1.initializers.identity())
        self.built = True

    def call(self, inputs, state):
        h, total = state
        h = tf.nn.relu(tf.matmul(inputs, self.kernel) + tf.matmul(h, self.recurrent))
        return h, (h, total + h)


def build_user_cells(x):
    cells = [MinimalCell(3), BuiltCell(2)]
    cell = rc.MultiRNNCell(cells)
    outputs, state = v1.nn.dynamic_rnn(cell, x, dtype=tf.float32)
    return {"outputs": outputs, "state": state}, {"minimal": cells[0], "built": cells[1]}


MODEL_NAMES = ["lstm_stack", "gru_bidirectional", "static_dropout", "variational",
               "static_bidirectional", "raw", "user_cells"]


def inputs():
    return np.random.RandomState(0).uniform(-1, 1, (B, T, D)).astype("float32")


def loss_of(tensors):
    return tf.add_n([tf.reduce_sum(tf.square(t)) for t in tf.nest.flatten(tensors)])


def tf1_initializers():
    """TF1's cells drew default kernels with glorot_uniform through get_seed;
    tf_keras' cells draw them from Keras 2's generator (see the README's
    differences), so the models give the kernels TF1's initializer through
    the scope, which both add_variable paths read."""
    return v1.variable_scope(v1.get_variable_scope(),
                             initializer=v1.glorot_uniform_initializer())


def weight_names(cells):
    return {key: [v.name for v in cell.trainable_weights] for key, cell in cells.items()}
'''

EAGER_RUNNER = '''
class Net(tf.keras.layers.Layer):
    def __init__(self, build, **kwargs):
        super().__init__(**kwargs)
        self.build_model = build

    @v1.keras.utils.track_tf1_style_variables
    def call(self, x):
        with tf1_initializers():
            tensors, self.cells = self.build_model(x)
        return tensors


def run(name):
    with v1.keras.utils.DeterministicRandomTestTool(mode="num_random_ops").scope():
        net = Net(globals()["build_" + name])
        with tf.GradientTape() as tape:
            tensors = net(tf.constant(inputs()))
            loss = loss_of(tensors)
        variables = net.trainable_weights
        grads = tape.gradient(loss, variables)
    return {"names": sorted(v.name for v in net.weights),
            "shapes": {v.name: list(v.shape) for v in net.weights},
            "initial": {v.name: v.numpy() for v in net.weights},
            "outputs": tensors,
            "grads": {v.name: g for v, g in zip(variables, grads)},
            "cell_weights": weight_names(net.cells)}


result.update({name: run(name) for name in MODEL_NAMES})
'''

GRAPH_RUNNER = '''
def run(name):
    with v1.keras.utils.DeterministicRandomTestTool(mode="num_random_ops").scope():
        with tf.Graph().as_default(), v1.Session() as sess:
            x = v1.placeholder(tf.float32, [B, T, D])
            with tf1_initializers():
                tensors, cells = globals()["build_" + name](x)
            variables = v1.global_variables()
            trainable = v1.trainable_variables()
            grads = v1.gradients(loss_of(tensors), trainable)
            sess.run(v1.global_variables_initializer())
            initial = sess.run(variables)
            outputs, grads = sess.run([tensors, grads], {x: inputs()})
            return {"names": sorted(v.name for v in variables),
                    "shapes": {v.name: v.shape.as_list() for v in variables},
                    "initial": {v.name: value for v, value in zip(variables, initial)},
                    "outputs": outputs,
                    "grads": {v.name: g for v, g in zip(trainable, grads)},
                    "cell_weights": weight_names(cells)}


result.update({name: run(name) for name in MODEL_NAMES})
'''
