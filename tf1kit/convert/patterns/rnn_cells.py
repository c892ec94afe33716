"""The Keras cells the converted RNNs run: TF1's cells, weights as TF1 had them.

`keras.layers.LSTMCell`, `GRUCell` and `SimpleRNNCell` compute what TF1's
`LSTMCell`, `GRUCell` and `BasicRNNCell` compute, but hold the weights
differently: a `kernel` for the inputs and a `recurrent_kernel` for the
state where TF1 has one kernel over the concatenated `[inputs, h]`, the
LSTM gates ordered i, f, c, o where TF1 has i, j, f, o, the forget bias in
the bias where TF1 adds `forget_bias` on every step, and GRU's reset gate
after the matmul by default. Converted weights would then no longer be the
TF1 checkpoint's tensors, so a TF1 checkpoint, `tf1kit.verify` and the
weight map could not pair them by name. The generated source therefore
carries these small cells, which keep TF1's layout (and TF1's peepholes,
projection and clipping, which Keras' cells lack); each has
`keras_weights()`, the same weights as Keras' own cell takes them, for
moving on to `keras.layers.LSTM` / `GRU` / `SimpleRNN`.

Each entry is the source of one class, formatted with `{package}`.
"""

BASIC_RNN_CELL = '''\
@keras.saving.register_keras_serializable(package="{package}")
class BasicRNNCell(keras.layers.Layer):
    """TF1's BasicRNNCell for keras.layers.RNN: h = activation([inputs, h] @ kernel + bias).

    The kernel is TF1's, over the concatenated inputs and state;
    `keras_weights()` gives the weights of keras.layers.SimpleRNNCell(units).

    Args:
        units: the size of the state and output.
        activation: a Keras activation name.
        kernel_initializer, bias_initializer: how fresh weights are drawn.

    Example:

    ```python
    rnn = keras.layers.RNN(BasicRNNCell(16), return_sequences=True)
    ```
    """

    def __init__(self, units, activation="tanh", kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.activation = keras.activations.get(activation)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.state_size = units
        self.output_size = units

    def build(self, input_shape):
        depth = input_shape[-1] + self.units
        self.kernel = self.add_weight(name="kernel", shape=(depth, self.units),
                                      initializer=self.kernel_initializer)
        self.bias = self.add_weight(name="bias", shape=(self.units,),
                                    initializer=self.bias_initializer)

    def call(self, inputs, states):
        state = tf.concat([inputs, states[0]], 1)
        output = self.activation(tf.nn.bias_add(tf.matmul(state, self.kernel), self.bias))
        return output, [output]

    def keras_weights(self):
        """[kernel, recurrent_kernel, bias] for keras.layers.SimpleRNNCell(units)."""
        depth = self.kernel.shape[0] - self.units
        return [self.kernel[:depth], self.kernel[depth:], self.bias]

    def get_config(self):
        return {{**super().get_config(), "units": self.units,
                "activation": keras.activations.serialize(self.activation),
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer)}}
'''

LSTM_CELL = '''\
@keras.saving.register_keras_serializable(package="{package}")
class LSTMCell(keras.layers.Layer):
    """TF1's LSTMCell (and BasicLSTMCell) for keras.layers.RNN; the state is [c, h].

    The weights are TF1's: one `kernel` over the concatenated [inputs, h]
    with the gates in the order i, j, f, o, and a `bias` that does not hold
    `forget_bias` (it is added to the forget gate on every step). With
    `use_peepholes`, `num_proj` and the clips this is TF1's full LSTMCell,
    which Keras' own cell does not offer; without them, `keras_weights()`
    gives the weights of keras.layers.LSTMCell(units, unit_forget_bias=False).

    Args:
        units: the size of the cell state c.
        forget_bias: added to the forget gate's pre-activation.
        use_peepholes: diagonal peephole connections (w_f_diag, w_i_diag, w_o_diag).
        cell_clip: c is clipped to [-cell_clip, cell_clip] (None: no clipping).
        num_proj: the output h is projected to this size (None: no projection).
        proj_clip: the projected h is clipped to [-proj_clip, proj_clip].
        activation: a Keras activation name (TF1's default is tanh).
        kernel_initializer, bias_initializer: how fresh weights are drawn.

    Example:

    ```python
    rnn = keras.layers.RNN(LSTMCell(64, forget_bias=0.0), return_sequences=True)
    ```
    """

    def __init__(self, units, forget_bias=1.0, use_peepholes=False, cell_clip=None,
                 num_proj=None, proj_clip=None, activation="tanh",
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.forget_bias = forget_bias
        self.use_peepholes = use_peepholes
        self.cell_clip = cell_clip
        self.num_proj = num_proj
        self.proj_clip = proj_clip
        self.activation = keras.activations.get(activation)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.output_size = num_proj or units
        self.state_size = [units, self.output_size]

    def build(self, input_shape):
        depth = input_shape[-1] + self.output_size
        self.kernel = self.add_weight(name="kernel", shape=(depth, 4 * self.units),
                                      initializer=self.kernel_initializer)
        self.bias = self.add_weight(name="bias", shape=(4 * self.units,),
                                    initializer=self.bias_initializer)
        if self.use_peepholes:
            self.w_f_diag, self.w_i_diag, self.w_o_diag = (
                self.add_weight(name=name, shape=(self.units,),
                                initializer=self.kernel_initializer)
                for name in ("w_f_diag", "w_i_diag", "w_o_diag"))
        if self.num_proj is not None:
            self.projection_kernel = self.add_weight(
                name="projection_kernel", shape=(self.units, self.num_proj),
                initializer=self.kernel_initializer)

    def call(self, inputs, states):
        c, h = states
        gates = tf.nn.bias_add(tf.matmul(tf.concat([inputs, h], 1), self.kernel), self.bias)
        i, j, f, o = tf.split(gates, 4, axis=1)
        if self.use_peepholes:
            c = (tf.sigmoid(f + self.forget_bias + self.w_f_diag * c) * c
                 + tf.sigmoid(i + self.w_i_diag * c) * self.activation(j))
        else:
            c = tf.sigmoid(f + self.forget_bias) * c + tf.sigmoid(i) * self.activation(j)
        if self.cell_clip is not None:
            c = tf.clip_by_value(c, -self.cell_clip, self.cell_clip)
        if self.use_peepholes:
            h = tf.sigmoid(o + self.w_o_diag * c) * self.activation(c)
        else:
            h = tf.sigmoid(o) * self.activation(c)
        if self.num_proj is not None:
            h = tf.matmul(h, self.projection_kernel)
            if self.proj_clip is not None:
                h = tf.clip_by_value(h, -self.proj_clip, self.proj_clip)
        return h, [c, h]

    def keras_weights(self):
        """[kernel, recurrent_kernel, bias] for keras.layers.LSTMCell(units,
        unit_forget_bias=False): the kernel split at the inputs' depth, the
        gates reordered to i, f, c, o, and forget_bias moved into the bias."""
        if self.use_peepholes or self.num_proj is not None or self.cell_clip is not None:
            raise ValueError("keras.layers.LSTMCell has no peepholes, projection or clipping")
        depth = self.kernel.shape[0] - self.units
        i, j, f, o = tf.split(self.kernel, 4, axis=1)
        kernel = tf.concat([i, f, j, o], axis=1)
        b_i, b_j, b_f, b_o = tf.split(self.bias, 4)
        bias = tf.concat([b_i, b_f + self.forget_bias, b_j, b_o], axis=0)
        return [kernel[:depth], kernel[depth:], bias]

    def get_config(self):
        return {{**super().get_config(), "units": self.units, "forget_bias": self.forget_bias,
                "use_peepholes": self.use_peepholes, "cell_clip": self.cell_clip,
                "num_proj": self.num_proj, "proj_clip": self.proj_clip,
                "activation": keras.activations.serialize(self.activation),
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer)}}
'''

GRU_CELL = '''\
@keras.saving.register_keras_serializable(package="{package}")
class GRUCell(keras.layers.Layer):
    """TF1's GRUCell for keras.layers.RNN (the reset gate applied before the matmul).

    The weights are TF1's: `gates_kernel` over the concatenated [inputs, h]
    gives the reset and update gates (in that order), `candidate_kernel` over
    [inputs, r * h] the candidate; `keras_weights()` gives the weights of
    keras.layers.GRUCell(units, reset_after=False).

    Args:
        units: the size of the state and output.
        activation: the candidate's Keras activation name.
        kernel_initializer: how fresh kernels are drawn.
        bias_initializer: how fresh biases are drawn (None: TF1's 1.0 for the
            gates and 0.0 for the candidate).

    Example:

    ```python
    rnn = keras.layers.RNN(GRUCell(32), return_sequences=True)
    ```
    """

    def __init__(self, units, activation="tanh", kernel_initializer="glorot_uniform",
                 bias_initializer=None, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.activation = keras.activations.get(activation)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.state_size = units
        self.output_size = units

    def build(self, input_shape):
        depth = input_shape[-1] + self.units
        self.gates_kernel = self.add_weight(name="gates_kernel", shape=(depth, 2 * self.units),
                                            initializer=self.kernel_initializer)
        self.gates_bias = self.add_weight(
            name="gates_bias", shape=(2 * self.units,),
            initializer=self.bias_initializer or keras.initializers.Constant(1.0))
        self.candidate_kernel = self.add_weight(name="candidate_kernel",
                                                shape=(depth, self.units),
                                                initializer=self.kernel_initializer)
        self.candidate_bias = self.add_weight(name="candidate_bias", shape=(self.units,),
                                              initializer=self.bias_initializer or "zeros")

    def call(self, inputs, states):
        h = states[0]
        gates = tf.nn.bias_add(tf.matmul(tf.concat([inputs, h], 1), self.gates_kernel),
                               self.gates_bias)
        reset, update = tf.split(tf.sigmoid(gates), 2, axis=1)
        candidate = tf.nn.bias_add(
            tf.matmul(tf.concat([inputs, reset * h], 1), self.candidate_kernel),
            self.candidate_bias)
        h = update * h + (1 - update) * self.activation(candidate)
        return h, [h]

    def keras_weights(self):
        """[kernel, recurrent_kernel, bias] for keras.layers.GRUCell(units,
        reset_after=False): the kernels split at the inputs' depth, the gates
        ordered update, reset, candidate."""
        depth = self.gates_kernel.shape[0] - self.units
        reset, update = tf.split(self.gates_kernel, 2, axis=1)
        kernel = tf.concat([update, reset, self.candidate_kernel], axis=1)
        b_reset, b_update = tf.split(self.gates_bias, 2)
        bias = tf.concat([b_update, b_reset, self.candidate_bias], axis=0)
        return [kernel[:depth], kernel[depth:], bias]

    def get_config(self):
        return {{**super().get_config(), "units": self.units,
                "activation": keras.activations.serialize(self.activation),
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer)}}
'''

# A wrapper holds the cell it wraps; Keras re-creates it from the config.
_WRAPPER_CONFIG = '''
    def get_initial_state(self, batch_size=None):
        # The wrapped cell's zeros (keras.layers.RNN cannot make them for the
        # nested state of a StackedRNNCells).
        if hasattr(self.cell, "get_initial_state"):
            return self.cell.get_initial_state(batch_size=batch_size)
        sizes = self.cell.state_size
        if isinstance(sizes, int):
            return keras.ops.zeros((batch_size, sizes), dtype=self.compute_dtype)
        return [keras.ops.zeros((batch_size, size), dtype=self.compute_dtype) for size in sizes]
    def get_config(self):
        return {{**super().get_config(),<fields>
                "cell": keras.saving.serialize_keras_object(self.cell)}}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        cell = keras.saving.deserialize_keras_object(config.pop("cell"))
        return cls(cell, **config)
'''

DROPOUT_WRAPPER = '''\
@keras.saving.register_keras_serializable(package="{package}")
class DropoutWrapper(keras.layers.Layer):
    """TF1's DropoutWrapper: dropout on a cell's inputs, state and output.

    While training, every step draws new masks (TF1's default, not Keras'
    one mask per sequence); the state's parts listed in `dropped_states`
    (flat indices; TF1 leaves an LSTM's c alone) are dropped.

    Args:
        cell: the wrapped cell.
        input_rate, state_rate, output_rate: the fractions dropped.
        dropped_states: which of the cell's flattened states state dropout hits.

    Example:

    ```python
    cell = DropoutWrapper(LSTMCell(200, forget_bias=0.0), output_rate=0.5)
    ```
    """

    def __init__(self, cell, input_rate=0.0, state_rate=0.0, output_rate=0.0,
                 dropped_states=(), **kwargs):
        super().__init__(**kwargs)
        self.cell = cell
        self.input_rate = input_rate
        self.state_rate = state_rate
        self.output_rate = output_rate
        self.dropped_states = tuple(dropped_states)
        self.state_size = cell.state_size
        self.output_size = cell.output_size

    def build(self, input_shape):
        if not self.cell.built:
            self.cell.build(input_shape)

    def call(self, inputs, states, training=None):
        if training and self.input_rate:
            inputs = tf.nn.dropout(inputs, rate=self.input_rate)
        output, states = self.cell(inputs, states, training=training)
        if training and self.state_rate:
            flat = [tf.nn.dropout(state, rate=self.state_rate) if index in self.dropped_states
                    else state for index, state in enumerate(tf.nest.flatten(states))]
            states = tf.nest.pack_sequence_as(states, flat)
        if training and self.output_rate:
            output = tf.nn.dropout(output, rate=self.output_rate)
        return output, states
''' + _WRAPPER_CONFIG.replace(
    "<fields>", ' "input_rate": self.input_rate, "state_rate": self.state_rate,\n'
           '                "output_rate": self.output_rate, '
           '"dropped_states": list(self.dropped_states),')

RESIDUAL_WRAPPER = '''\
@keras.saving.register_keras_serializable(package="{package}")
class ResidualWrapper(keras.layers.Layer):
    """TF1's ResidualWrapper: the step's input added to the wrapped cell's output.

    Args:
        cell: the wrapped cell; its output has the input's size.

    Example:

    ```python
    cell = ResidualWrapper(GRUCell(16))
    ```
    """

    def __init__(self, cell, **kwargs):
        super().__init__(**kwargs)
        self.cell = cell
        self.state_size = cell.state_size
        self.output_size = cell.output_size

    def build(self, input_shape):
        if not self.cell.built:
            self.cell.build(input_shape)

    def call(self, inputs, states, training=None):
        output, states = self.cell(inputs, states, training=training)
        return inputs + output, states
''' + _WRAPPER_CONFIG.replace("<fields>", "")

CELLS = {"BasicRNNCell": BASIC_RNN_CELL, "LSTMCell": LSTM_CELL, "GRUCell": GRU_CELL,
         "DropoutWrapper": DROPOUT_WRAPPER, "ResidualWrapper": RESIDUAL_WRAPPER}
