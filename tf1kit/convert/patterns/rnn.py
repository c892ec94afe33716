"""TF1's RNN functions over `tf.compat.v1.nn.rnn_cell` cells -> `keras.layers.RNN`.

* `dynamic_rnn` / `static_rnn` -> `keras.layers.RNN`;
* `bidirectional_dynamic_rnn` / `static_bidirectional_rnn` ->
  `keras.layers.Bidirectional` over a forward and a backward `RNN`;
* `MultiRNNCell` -> `keras.layers.StackedRNNCells`;
* `LSTMCell`, `BasicLSTMCell`, `GRUCell`, `BasicRNNCell`, `DropoutWrapper`,
  `ResidualWrapper` -> the cells of `rnn_cells`, which keep TF1's weights
  (why: see there); `DeviceWrapper` is dropped (Keras places ops itself).

`sequence_length` becomes the RNN's mask (outputs past the end are zeros,
the state is the last valid step's, as in TF1), `time_major` a transpose
on each side, a zero initial state Keras' own default, any other one the
`initial_state` argument. A `DropoutWrapper` that drops only while training
runs with the model's `training` flag. The state is returned only when the
model uses it.

A cell of the user's own (an `RNNCell` subclass) is reported: its steps run
inside the RNN's loop, where the converter does not read.
"""

from __future__ import annotations

import dataclasses
import numbers
import re

import numpy as np
import tensorflow as tf

from tf1kit import rnn as tf1_rnn
from tf1kit.convert.ir import TRAINING, LayerSpec
from tf1kit.convert.patterns import HELPERS, converts_function
from tf1kit.convert.patterns.rnn_cells import CELLS
from tf1kit.convert.values import Code, NotConvertible, activation_code, literal
from tf1kit.rnn.dropout_wrapper import default_dropout_state_filter_visitor

_GLOROT = "keras.initializers.GlorotUniform()"
_ZEROS = "keras.initializers.Zeros()"

HELPERS.update(CELLS)


@dataclasses.dataclass
class _Cell:
    """A converted cell: its source, weights, and the nesting of its state."""

    expr: str
    weights: dict          # attribute path from the RNN layer -> shim variable
    helpers: set
    state: object          # Keras' nesting of the state: a hint (str) or a list of them
    dropout: list          # (rate when training, rate at inference) of each active dropout


# -- the cells ---------------------------------------------------------------------

def _scope_name(cell) -> str:
    """The last part of the cell's TF1 scope (`lstm_cell`); a wrapper, which
    enters no scope of its own, is named after its class (`dropout_wrapper`)."""
    try:
        scope = cell.scope_name
    except ValueError:
        return re.sub(r"(?<!^)(?=[A-Z])", "_", type(cell).__name__).lower()
    return (scope or cell.name).rsplit("/", 1)[-1]


def _check_weights(cell, variables):
    for variable in variables:
        if getattr(variable, "regularizer", None) is not None:
            raise NotConvertible(f"{type(cell).__name__} {cell.name!r}: a regularizer on "
                                 f"{variable.name} (the converted cells take none)")
        if tf.as_dtype(variable.dtype) != tf.float32:
            raise NotConvertible(f"{type(cell).__name__} {cell.name!r}: variables of dtype "
                                 f"{tf.as_dtype(variable.dtype).name}")


def _common_args(cell, context, kernel, bias, args, default_activation="tanh"):
    activation = activation_code(cell._activation) or "linear"
    if activation != default_activation:
        args.append(f"activation={literal(activation)}")
    initializer = context.initializer(kernel, None, f"{kernel.name} ({type(cell).__name__})")
    if initializer != _GLOROT:
        args.append(f"kernel_initializer={initializer}")
    if bias is not None:
        initializer = context.initializer(bias, None, f"{bias.name} ({type(cell).__name__})")
        if initializer != _ZEROS:
            args.append(f"bias_initializer={initializer}")
    if not cell.trainable:
        args.append("trainable=False")


def _lstm(cell, context, name, path):
    basic = type(cell) is tf1_rnn.BasicLSTMCell
    if not cell._state_is_tuple:
        raise NotConvertible(f"{type(cell).__name__} {cell.name!r}: state_is_tuple=False "
                             "(a concatenated [c, h] state)")
    weights = {"kernel": cell._kernel, "bias": cell._bias}
    args = [str(cell._num_units)]
    if cell._forget_bias != 1.0:
        args.append(f"forget_bias={literal(float(cell._forget_bias))}")
    if not basic:
        if cell._use_peepholes:
            args.append("use_peepholes=True")
            weights.update(w_f_diag=cell._w_f_diag, w_i_diag=cell._w_i_diag,
                           w_o_diag=cell._w_o_diag)
        for option in ("cell_clip", "num_proj", "proj_clip"):
            value = getattr(cell, f"_{option}")
            if value is not None:
                args.append(f"{option}={literal(value)}")
        if cell._num_proj is not None:
            weights["projection_kernel"] = cell._proj_kernel
    _check_weights(cell, weights.values())
    _common_args(cell, context, cell._kernel, cell._bias, args)
    args.append(f"name={literal(name)}")
    return _Cell(f"LSTMCell({', '.join(args)})",
                 {f"{path}.{k}": v for k, v in weights.items()}, {"LSTMCell"}, ["c", "h"], [])


def _gru(cell, context, name, path):
    weights = {"gates_kernel": cell._gate_kernel, "gates_bias": cell._gate_bias,
               "candidate_kernel": cell._candidate_kernel,
               "candidate_bias": cell._candidate_bias}
    _check_weights(cell, weights.values())
    args = [str(cell._num_units)]
    _common_args(cell, context, cell._gate_kernel, None, args)
    if cell._bias_initializer is not None:
        initializer = context.initializer(cell._gate_bias, None, cell._gate_bias.name)
        args.append(f"bias_initializer={initializer}")
    args.append(f"name={literal(name)}")
    return _Cell(f"GRUCell({', '.join(args)})",
                 {f"{path}.{k}": v for k, v in weights.items()}, {"GRUCell"}, "h", [])


def _basic_rnn(cell, context, name, path):
    weights = {"kernel": cell._kernel, "bias": cell._bias}
    _check_weights(cell, weights.values())
    args = [str(cell._num_units)]
    _common_args(cell, context, cell._kernel, cell._bias, args)
    args.append(f"name={literal(name)}")
    return _Cell(f"BasicRNNCell({', '.join(args)})",
                 {f"{path}.{k}": v for k, v in weights.items()}, {"BasicRNNCell"}, "h", [])


_KEEP_PARTS = ("input", "state", "output")


def _keep_probabilities(wrapper) -> dict:
    rates = {}
    for part in _KEEP_PARTS:
        keep = getattr(wrapper, f"_{part}_keep_prob")
        if not isinstance(keep, numbers.Real):
            raise NotConvertible(f"DropoutWrapper: the {part} keep probability is a tensor, "
                                 "not a number")
        # TF1 holds a constant keep probability as a float32 (0.8 -> 0.800000011920929).
        rates[part] = 1.0 - float(str(np.float32(keep)))
    return rates


def _dropped_states(state_size) -> list:
    """Flags per flattened state of TF1's default filter: an LSTM's c is kept."""
    if isinstance(state_size, tf1_rnn.LSTMStateTuple):
        return [False, True]
    if isinstance(state_size, (tuple, list)):
        return [flag for size in state_size for flag in _dropped_states(size)]
    return [True]


def _dropout_wrapper(cell, other, context, name, path):
    if cell._variational_recurrent:
        raise NotConvertible("DropoutWrapper(variational_recurrent=True): one mask per "
                             "sequence, drawn outside the steps")
    rates = _keep_probabilities(cell)
    inference = _keep_probabilities(other) if other is not None else rates
    active = [(rates[p], inference[p]) for p in _KEEP_PARTS if rates[p] or inference[p]]
    if not active:  # keep probabilities of 1: the wrapper changes nothing
        return _cell(cell.cell, other.cell if other is not None else None, context, name, path)
    if rates["state"] and cell._dropout_state_filter is not default_dropout_state_filter_visitor:
        raise NotConvertible("DropoutWrapper with a dropout_state_filter_visitor of its own")
    inner = _cell(cell.cell, other.cell if other is not None else None, context,
                  _scope_name(cell.cell), f"{path}.cell")
    args = [inner.expr]
    args += [f"{p}_rate={literal(rates[p])}" for p in _KEEP_PARTS if rates[p]]
    if rates["state"]:
        dropped = [i for i, flag in enumerate(_dropped_states(cell.cell.state_size)) if flag]
        args.append(f"dropped_states={literal(tuple(dropped))}")
    if cell._seed is not None:
        context.notes.append(f"DropoutWrapper {name!r}: its seed is not carried over (Keras "
                             "draws its own masks)")
    args.append(f"name={literal(name)}")
    return _Cell(f"DropoutWrapper({', '.join(args)})", inner.weights,
                 inner.helpers | {"DropoutWrapper"}, inner.state, inner.dropout + active)


def _cell(cell, other, context, name, path) -> _Cell:
    """The Keras cell for a TF1 cell (`other`: the same cell in the training=False trace)."""
    kind = type(cell)
    if other is not None and type(other) is not kind:
        raise NotConvertible("the RNN's cells differ between training=True and training=False")
    other_inner = getattr(other, "cell", None)
    if kind is tf1_rnn.DeviceWrapper:
        context.notes.append(f"DeviceWrapper {name!r}: its device is left to Keras")
        return _cell(cell.cell, other_inner, context, name, path)
    if kind is tf1_rnn.DropoutWrapper:
        return _dropout_wrapper(cell, other, context, name, path)
    if kind is tf1_rnn.ResidualWrapper:
        if cell._residual_fn is not None:
            raise NotConvertible("ResidualWrapper with a residual_fn of its own")
        inner = _cell(cell.cell, other_inner, context, _scope_name(cell.cell), f"{path}.cell")
        return _Cell(f"ResidualWrapper({inner.expr}, name={literal(name)})", inner.weights,
                     inner.helpers | {"ResidualWrapper"}, inner.state, inner.dropout)
    if kind is tf1_rnn.MultiRNNCell:
        if not cell._state_is_tuple:
            raise NotConvertible("MultiRNNCell(state_is_tuple=False) (a concatenated state)")
        others = other._cells if other is not None else [None] * len(cell._cells)
        if len(others) != len(cell._cells):
            raise NotConvertible("the RNN's cells differ between training=True and "
                                 "training=False")
        if len(cell._cells) == 1:  # Keras would unnest a stack of one cell's state
            return _cell(cell._cells[0], others[0], context, name, path)
        parts = [_cell(c, o, context, f"cell_{i}", f"{path}.cells[{i}]")
                 for i, (c, o) in enumerate(zip(cell._cells, others))]
        expr = (f"keras.layers.StackedRNNCells([{', '.join(p.expr for p in parts)}], "
                f"name={literal(name)})")
        return _Cell(expr, {k: v for p in parts for k, v in p.weights.items()},
                     set().union(*(p.helpers for p in parts)),
                     [_numbered(p.state, i) for i, p in enumerate(parts)],
                     [d for p in parts for d in p.dropout])
    if kind in (tf1_rnn.LSTMCell, tf1_rnn.BasicLSTMCell):
        return _lstm(cell, context, name, path)
    if kind is tf1_rnn.GRUCell:
        return _gru(cell, context, name, path)
    if kind is tf1_rnn.BasicRNNCell:
        return _basic_rnn(cell, context, name, path)
    raise NotConvertible(
        f"{kind.__name__} is not one of TF1's cells: a cell's steps run inside the RNN's "
        "loop, which the converter does not read (write it as a Keras cell)")


def _numbered(state, index):
    if isinstance(state, list):
        return [_numbered(s, index) for s in state]
    return f"{state}_{index}"


def _leaves(state) -> list:
    return [leaf for s in state for leaf in _leaves(s)] if isinstance(state, list) else [state]


def _top_level(state) -> list:
    """The states keras.layers.RNN returns after the output (`output, *states`)."""
    return state if isinstance(state, list) else [state]


def _render(state, texts) -> str:
    """Source for a state nesting with `texts` at its leaves, in order."""
    return _render_each([state], iter(texts), "[]")[0]


def _render_targets(states, texts) -> list:
    """Assignment targets: `c, h` at the top level, `(c_0, h_0)` below it."""
    return _render_each(states, iter(texts), "()")


def _render_each(states, items, brackets) -> list:
    def render(s):
        if isinstance(s, list):
            return brackets[0] + ", ".join(render(x) for x in s) + brackets[1]
        return next(items)

    return [render(s) for s in states]


def _training_binding(call, cells) -> object:
    dropouts = [d for cell in cells for d in cell.dropout]
    if not dropouts:
        return None
    if getattr(call, "paired", None) is None:
        return True  # no training=False trace: the TF1 code always drops
    if all(inference == 0.0 for _, inference in dropouts):
        return TRAINING
    if all(training == inference for training, inference in dropouts):
        return True
    raise NotConvertible("DropoutWrapper keep probabilities that differ between "
                         "training=True and training=False other than by dropping only "
                         "while training")


# -- what the RNN takes -------------------------------------------------------------

def _is_zeros(tensor) -> bool:
    """A zero state (`cell.zero_state`, `tf.zeros`), which Keras' RNN starts from itself."""
    if not tf.is_tensor(tensor):
        return bool(np.all(np.asarray(tensor) == 0))
    op = tensor.op
    while op.type == "Identity":
        op = op.inputs[0].op
    if op.type == "ZerosLike":
        return True
    if op.type == "Fill":
        value = tf.get_static_value(op.inputs[1])
        return value is not None and bool(np.all(value == 0))
    value = tf.get_static_value(op.outputs[0]) if op.type == "Const" else None
    return value is not None and bool(np.all(value == 0))


def _initial_leaves(state, expected: int, what: str) -> list:
    """The initial state's tensors, flat; [] when it is absent or zeros."""
    if state is None:
        return []
    leaves = tf.nest.flatten(state)
    if all(_is_zeros(leaf) for leaf in leaves):
        return []
    if len(leaves) != expected:
        raise NotConvertible(f"{what} has {len(leaves)} tensors where the cell's state has "
                             f"{expected}")
    return leaves


def _rnn_scope(call, default) -> str:
    given = call.layer.arguments.get("scope")
    if isinstance(given, tf.compat.v1.VariableScope):
        return given.name
    name = given or default
    outer = call.layer.variable_scope
    return f"{outer}/{name}" if outer else name


def _unstacked_source(tensors):
    """The tensor that `tf.unstack(x, axis=1)` split into `tensors`, if it did."""
    if not tensors or not all(tf.is_tensor(t) for t in tensors):
        return None
    op = tensors[0].op
    if op.type != "Unpack" or int(op.get_attr("axis")) != 1 or \
            list(op.outputs) != list(tensors):
        return None
    return op.inputs[0]


def _batch_major_source(tensor):
    """x, when `tensor` is `tf.transpose(x, [1, 0, 2])`."""
    op = tensor.op
    if op.type != "Transpose":
        return None
    perm = tf.get_static_value(op.inputs[1])
    return op.inputs[0] if perm is not None and list(perm) == [1, 0, 2] else None


@dataclasses.dataclass
class _Layout:
    """Where the RNN call's pieces sit among its inputs and outputs."""

    steps: int             # number of input tensors that are time steps
    stacked: bool          # the steps are stacked into one sequence (static_rnn)
    length: int | None     # index of sequence_length among the inputs
    states: list           # [(state nesting, index of its first leaf)] per direction
    time_major_in: bool    # the sequence given is time-major (transposed for Keras)
    time_major: bool       # TF1 returns time-major outputs
    max_time: int | None   # the static number of time steps, if known


def _inputs(call, cells, static):
    """(flat inputs, layout) of an RNN call."""
    arguments = call.layer.arguments
    inputs = arguments["inputs"]
    source = None
    if static:
        if not isinstance(inputs, (list, tuple)):
            raise NotConvertible("static_rnn takes a list of time steps")
        source = _unstacked_source(list(inputs))
        flat = [source] if source is not None else list(inputs)
        max_time = len(inputs)
    else:
        if not tf.is_tensor(inputs):
            raise NotConvertible("inputs nested in a structure (one tensor is converted)")
        time_axis = 0 if arguments.get("time_major") else 1
        max_time = inputs.shape[time_axis] if inputs.shape.rank else None
        if time_axis == 0:
            # Made time-major for TF1 (`tf.transpose(x, [1, 0, 2])`): Keras takes x as it was.
            source = _batch_major_source(inputs)
        flat = [inputs if source is None else source]
    steps = len(flat)
    length = None
    if arguments.get("sequence_length") is not None:
        length = len(flat)
        flat.append(arguments["sequence_length"])
    states = []
    for key, cell in zip(_state_keys(cells), cells):
        leaves = _initial_leaves(arguments.get(key), len(_leaves(cell.state)),
                                 f"the {key}")
        states.append((cell.state, len(flat) if leaves else None))
        flat.extend(leaves)
    given = [index for _, index in states if index is not None]
    if len(cells) == 2 and len(given) == 1:
        raise NotConvertible("an initial state for one direction only")
    if len(cells) == 2 and given and \
            len(_top_level(states[0][0])) != len(_top_level(states[1][0])):
        raise NotConvertible("initial states of forward and backward cells of different "
                             "structure")
    stacked = static and source is None
    time_major_in = bool(arguments.get("time_major")) and source is None
    return flat, _Layout(steps, stacked, length, states, time_major_in,
                         bool(arguments.get("time_major")),
                         int(max_time) if max_time is not None else None)


def _state_keys(cells):
    return ["initial_state"] if len(cells) == 1 else ["initial_state_fw", "initial_state_bw"]


# -- the converters ------------------------------------------------------------------

@converts_function("tensorflow.compat.v1.nn.dynamic_rnn", opaque=True)
def dynamic_rnn(call, context):
    return _rnn(call, context, static=False, bidirectional=False)


@converts_function("tensorflow.compat.v1.nn.static_rnn")
def static_rnn(call, context):
    return _rnn(call, context, static=True, bidirectional=False)


@converts_function("tensorflow.compat.v1.nn.bidirectional_dynamic_rnn", opaque=True)
def bidirectional_dynamic_rnn(call, context):
    return _rnn(call, context, static=False, bidirectional=True)


@converts_function("tensorflow.compat.v1.nn.static_bidirectional_rnn")
def static_bidirectional_rnn(call, context):
    return _rnn(call, context, static=True, bidirectional=True)


def _rnn(call, context, static, bidirectional):
    arguments = call.layer.arguments
    paired = getattr(call, "paired", None)
    other = paired.layer.arguments if paired is not None else {}
    if bidirectional:
        keys, paths = ("cell_fw", "cell_bw"), ("forward_layer.cell", "backward_layer.cell")
        scope = _rnn_scope(call, "bidirectional_rnn")
    else:
        keys, paths = ("cell",), ("cell",)
        scope = _rnn_scope(call, "rnn")
    cells = [_cell(arguments[k], other.get(k), context, _scope_name(arguments[k]), p)
             for k, p in zip(keys, paths)]
    flat, layout = _inputs(call, cells, static)
    outputs = tf.nest.flatten(call.outputs)
    # TF1 returns a list of steps (static) or one sequence per direction.
    output_count = layout.max_time if static else 2 if bidirectional else 1
    state_counts = [len(_leaves(cell.state)) for cell in cells]
    if len(outputs) != output_count + sum(state_counts):
        raise NotConvertible(f"its outputs ({len(outputs)} tensors) do not match the cells' "
                             "states")
    helpers = set().union(*(cell.helpers for cell in cells))
    weights = {k: v for cell in cells for k, v in cell.weights.items()}
    spec = LayerSpec("keras.layers.Bidirectional" if bidirectional else "keras.layers.RNN",
                     {}, weights, helpers=tuple(sorted(helpers)),
                     short_name=scope.rsplit("/", 1)[-1], inputs=flat, scope=scope,
                     training=_training_binding(call, cells))
    writer = _RNNWriter(static, bidirectional, layout, cells, output_count, state_counts)
    writer.write_args(spec, [True] * len(outputs))
    spec.select_outputs = lambda used: writer.write_args(spec, used)
    return spec


class _RNNWriter:
    """Writes the RNN layer's arguments and its call, for the outputs used."""

    def __init__(self, static, bidirectional, layout, cells, output_count, state_counts):
        self.static = static
        self.bidirectional = bidirectional
        self.layout = layout
        self.cells = cells
        self.output_count = output_count
        self.state_counts = state_counts
        self.return_sequences = True
        self.return_state = False

    def write_args(self, spec, used):
        outputs_used = any(used[:self.output_count])
        states_used = any(used[self.output_count:])
        # Keras returns the last output when it returns no sequence; with no
        # output used at all, the sequence is still what TF1's code computed.
        self.return_sequences = outputs_used or not states_used
        self.return_state = states_used
        masked = self.layout.length is not None
        options = {}
        if self.return_sequences:
            options["return_sequences"] = True
        if self.return_state:
            options["return_state"] = True
        if masked and self.return_sequences and not self.bidirectional:
            options["zero_output_for_mask"] = True  # TF1: zeros past the end
        layout = self.layout
        plain = not (self.static or self.bidirectional or self.return_state or layout.time_major
                     or masked or any(index is not None for _, index in layout.states))
        # A plain `x = self.rnn(x)` is written (and looped over) like any layer call.
        spec.write_call = None if plain else self.write_call
        if not self.bidirectional:
            spec.args = {"cell": Code(self.cells[0].expr), **options}
            return [0] if plain else None
        # Bidirectional makes its forward layer "forward_fw" and outputs zeros past
        # the end of a masked sequence (as TF1) by itself.
        joined = ", ".join(f"{key}={value}" for key, value in options.items())
        forward = f'keras.layers.RNN({self.cells[0].expr}, {joined}, name="fw")'
        backward = (f'keras.layers.RNN({self.cells[1].expr}, {joined}, go_backwards=True, '
                    f'name="bw")')
        spec.args = {"layer": Code(forward), "backward_layer": Code(backward),
                     "merge_mode": "concat" if self.static else None}

    def write_call(self, call):
        layout, args = self.layout, call.arguments
        lines = []
        if layout.stacked:
            sequence = f"tf.stack([{', '.join(args[:layout.steps])}], axis=1)"
        else:
            sequence = args[0]
            if layout.time_major_in:
                sequence = f"tf.transpose({sequence}, perm=[1, 0, 2])"
        call_args = [sequence]
        if layout.length is not None:
            if layout.max_time is not None:
                maxlen = str(layout.max_time)
            else:
                named = call.fresh("sequence")
                lines.append(f"{named} = {sequence}")
                call_args[0] = named
                maxlen = f"tf.shape({named})[1]"
            call_args.append(f"mask=tf.sequence_mask({args[layout.length]}, maxlen={maxlen})")
        given = [(state, index) for state, index in layout.states if index is not None]
        if given:
            texts = []
            for (state, index), count in zip(layout.states, self.state_counts):
                texts.append(_render(state, args[index:index + count])[1:-1]
                             if isinstance(state, list) else args[index])
            call_args.append(f"initial_state=[{', '.join(texts)}]")
        if call.training:
            call_args.append(call.training)
        expression = f"{call.target}({', '.join(call_args)})"
        return self._assign(call, lines, expression)

    def _assign(self, call, lines, expression):
        used = call.used
        outputs = [None] * len(used)
        count = self.output_count
        if self.static:
            sequence_names = [call.chain("x") if any(used[:count]) else "_"]
        elif self.bidirectional:
            sequence_names = [call.fresh(hint) if used[i] else "_"
                              for i, hint in enumerate(("outputs_fw", "outputs_bw"))]
        else:
            sequence_names = [call.chain("x") if used[0] else "_"]
        targets = list(sequence_names)
        position = count
        if self.return_state:
            for cell, state_count, prefix in zip(self.cells, self.state_counts,
                                                 ("fw_", "bw_") if self.bidirectional
                                                 else ("",)):
                hints = [f"{prefix}{leaf}" for leaf in _leaves(cell.state)]
                leaves = []
                for hint in hints:
                    name = call.fresh(hint) if used[position] else "_"
                    outputs[position] = None if name == "_" else name
                    leaves.append(name)
                    position += 1
                targets += _render_targets(_top_level(cell.state), leaves)
        if targets == ["_"]:
            targets = [call.fresh("x")]
        lines.append(f"{', '.join(targets)} = {expression}")
        if self.static:
            if any(used[:count]):
                steps = call.fresh("outputs")
                lines.append(f"{steps} = tf.unstack({targets[0]}, axis=1)")
                for t in range(count):
                    outputs[t] = f"{steps}[{t}]"
            return lines, outputs
        for index, name in enumerate(sequence_names):
            if name == "_":
                continue
            if self.layout.time_major:
                lines.append(f"{name} = tf.transpose({name}, perm=[1, 0, 2])")
            outputs[index] = name
        return lines, outputs
