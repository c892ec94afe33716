"""TensorFlow ops between the layers, written back as `tf` calls.

`EMITTERS[op_type](op, args)` returns the source of one op's result, where
`args` holds the source of each input (`Arg.text`) and, for constant inputs,
their value (`Arg.value`). An op with no entry here, or with attributes an
emitter does not handle, is reported as unsupported with its source line.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

from tf1kit.convert.values import NotConvertible, literal

ATOM, UNARY, POWER, PRODUCT, SUM, COMPARISON = 100, 90, 95, 80, 70, 60


@dataclasses.dataclass(frozen=True)
class Expr:
    """Source text and how tightly it binds (for parentheses)."""

    text: str
    precedence: int = ATOM

    def at(self, precedence: int) -> str:
        return self.text if self.precedence >= precedence else f"({self.text})"


@dataclasses.dataclass
class Arg:
    expr: Expr
    value: object = None  # numpy value when the input is a constant

    @property
    def text(self) -> str:
        return self.expr.text

    def const(self, convert=None):
        """The constant's value as a Python literal's source (else the expression)."""
        if self.value is None:
            return self.text
        value = np.asarray(self.value)
        value = value.tolist() if convert is None else convert(value)
        return literal(value)


EMITTERS: dict = {}


def emits(*op_types):
    def register(function):
        for op_type in op_types:
            EMITTERS[op_type] = function
        return function
    return register


def _call(function: str, *parts) -> Expr:
    return Expr(f"{function}({', '.join(p for p in parts if p)})")


def _kw(name, value, default=None) -> str:
    if value == default:
        return ""
    return f"{name}={literal(value)}"


def _attr(op, name, default=None):
    try:
        value = op.get_attr(name)
    except ValueError:
        return default
    return value.decode() if isinstance(value, bytes) else value


# -- elementwise ------------------------------------------------------------

_UNARY_FUNCTIONS = {
    "Relu": "tf.nn.relu", "Relu6": "tf.nn.relu6", "Elu": "tf.nn.elu", "Selu": "tf.nn.selu",
    "Sigmoid": "tf.sigmoid", "Tanh": "tf.tanh", "Softplus": "tf.nn.softplus",
    "Softsign": "tf.nn.softsign", "Exp": "tf.exp", "Log": "tf.math.log",
    "Log1p": "tf.math.log1p", "Sqrt": "tf.sqrt", "Rsqrt": "tf.math.rsqrt",
    "Square": "tf.square", "Abs": "tf.abs", "Sign": "tf.sign", "Floor": "tf.floor",
    "Ceil": "tf.math.ceil", "Round": "tf.round", "Reciprocal": "tf.math.reciprocal",
    "Erf": "tf.math.erf", "Sin": "tf.sin", "Cos": "tf.cos", "StopGradient": "tf.stop_gradient",
    "ZerosLike": "tf.zeros_like", "OnesLike": "tf.ones_like", "LogicalNot": "tf.logical_not",
    "IsNan": "tf.math.is_nan", "Softmax": "tf.nn.softmax", "LogSoftmax": "tf.nn.log_softmax",
}


@emits(*_UNARY_FUNCTIONS)
def _unary(op, args):
    return _call(_UNARY_FUNCTIONS[op.type], args[0].text)


@emits("Neg")
def _negative(op, args):
    return Expr(f"-{args[0].expr.at(UNARY)}", UNARY)


@emits("LeakyRelu")
def _leaky_relu(op, args):
    return _call("tf.nn.leaky_relu", args[0].text, _kw("alpha", float(_attr(op, "alpha"))))


_BINARY_OPERATORS = {"AddV2": ("+", SUM), "Add": ("+", SUM), "Sub": ("-", SUM),
                     "Mul": ("*", PRODUCT), "RealDiv": ("/", PRODUCT),
                     "FloorDiv": ("//", PRODUCT), "FloorMod": ("%", PRODUCT),
                     "Pow": ("**", POWER), "Greater": (">", COMPARISON),
                     "GreaterEqual": (">=", COMPARISON), "Less": ("<", COMPARISON),
                     "LessEqual": ("<=", COMPARISON)}


def _scalar_or(arg):
    """A scalar constant as a plain number, so `x * 2.0` reads as written."""
    if arg.value is not None and np.ndim(arg.value) == 0:
        value = np.asarray(arg.value).item()
        return Expr(literal(value), ATOM if value >= 0 else UNARY)
    return arg.expr


@emits(*_BINARY_OPERATORS)
def _binary(op, args):
    symbol, precedence = _BINARY_OPERATORS[op.type]
    left, right = _scalar_or(args[0]), _scalar_or(args[1])
    if args[0].value is not None and args[1].value is not None:
        left = Expr(f"tf.constant({left.text}, dtype=tf.{op.outputs[0].dtype.name})")
    elif args[0].value is not None and np.ndim(args[0].value) > 0:
        left = Expr(f"tf.constant({left.text}, dtype=tf.{op.inputs[0].dtype.name})")
    elif args[1].value is not None and np.ndim(args[1].value) > 0:
        right = Expr(f"tf.constant({right.text}, dtype=tf.{op.inputs[1].dtype.name})")
    # Left-associative: a right operand of equal precedence keeps its parentheses.
    if symbol == "**":
        return Expr(f"{left.at(precedence + 1)} ** {right.at(precedence)}", precedence)
    return Expr(f"{left.at(precedence)} {symbol} {right.at(precedence + 1)}", precedence)


_BINARY_FUNCTIONS = {"Maximum": "tf.maximum", "Minimum": "tf.minimum",
                     "SquaredDifference": "tf.math.squared_difference",
                     "DivNoNan": "tf.math.divide_no_nan", "Equal": "tf.equal",
                     "NotEqual": "tf.not_equal", "LogicalAnd": "tf.logical_and",
                     "LogicalOr": "tf.logical_or"}


@emits(*_BINARY_FUNCTIONS)
def _binary_function(op, args):
    return _call(_BINARY_FUNCTIONS[op.type], _scalar_or(args[0]).text, _scalar_or(args[1]).text)


@emits("BiasAdd")
def _bias_add(op, args):
    data_format = _attr(op, "data_format")
    return _call("tf.nn.bias_add", args[0].text, args[1].text,
                 "" if data_format == "NHWC" else f"data_format={literal(data_format)}")


@emits("SelectV2", "Select")
def _where(op, args):
    return _call("tf.where", args[0].text, args[1].text, args[2].text)


@emits("Cast")
def _cast(op, args):
    return _call("tf.cast", args[0].text, f"tf.{tf.as_dtype(_attr(op, 'DstT')).name}")


@emits("AddN")
def _add_n(op, args):
    return _call("tf.add_n", "[" + ", ".join(a.text for a in args) + "]")


# -- linear algebra ------------------------------------------------------------

@emits("MatMul")
def _matmul(op, args):
    return _call("tf.matmul", args[0].text, args[1].text,
                 _kw("transpose_a", bool(_attr(op, "transpose_a")), False),
                 _kw("transpose_b", bool(_attr(op, "transpose_b")), False))


@emits("BatchMatMulV2", "BatchMatMulV3", "BatchMatMul")
def _batch_matmul(op, args):
    return _call("tf.matmul", args[0].text, args[1].text,
                 _kw("adjoint_a", bool(_attr(op, "adj_x")), False),
                 _kw("adjoint_b", bool(_attr(op, "adj_y")), False))


@emits("Einsum")
def _einsum(op, args):
    return _call("tf.einsum", repr(_attr(op, "equation")), *[a.text for a in args])


# -- reductions ----------------------------------------------------------------

_REDUCTIONS = {"Mean": "tf.reduce_mean", "Sum": "tf.reduce_sum", "Max": "tf.reduce_max",
               "Min": "tf.reduce_min", "Prod": "tf.reduce_prod", "All": "tf.reduce_all",
               "Any": "tf.reduce_any"}


@emits(*_REDUCTIONS)
def _reduce(op, args):
    rank = op.inputs[0].shape.rank
    axes = None if args[1].value is None else sorted(
        int(a) % rank if rank else int(a) for a in np.atleast_1d(args[1].value))
    # tf.reduce_mean(x) reduces every axis: the graph spells that out.
    everything = rank is not None and axes == list(range(rank))
    return _call(_REDUCTIONS[op.type], args[0].text,
                 "" if everything else f"axis={args[1].const()}",
                 _kw("keepdims", bool(_attr(op, "keep_dims")), False))


@emits("ArgMax", "ArgMin")
def _arg_reduce(op, args):
    function = "tf.argmax" if op.type == "ArgMax" else "tf.argmin"
    out_type = tf.as_dtype(_attr(op, "output_type"))
    return _call(function, args[0].text, f"axis={args[1].const()}",
                 "" if out_type == tf.int64 else f"output_type=tf.{out_type.name}")


# -- shapes --------------------------------------------------------------------

@emits("Reshape")
def _reshape(op, args):
    return _call("tf.reshape", args[0].text, args[1].const())


@emits("Squeeze")
def _squeeze(op, args):
    axis = list(_attr(op, "squeeze_dims", []) or [])
    return _call("tf.squeeze", args[0].text, f"axis={literal(axis)}" if axis else "")


@emits("ExpandDims")
def _expand_dims(op, args):
    return _call("tf.expand_dims", args[0].text, f"axis={args[1].const()}")


@emits("Transpose")
def _transpose(op, args):
    return _call("tf.transpose", args[0].text, f"perm={args[1].const()}")


@emits("ConcatV2")
def _concat(op, args):
    values = "[" + ", ".join(a.text for a in args[:-1]) + "]"
    return _call("tf.concat", values, f"axis={args[-1].const()}")


@emits("Pack")
def _stack(op, args):
    values = "[" + ", ".join(_scalar_or(a).text for a in args) + "]"
    return _call("tf.stack", values, _kw("axis", int(_attr(op, "axis")), 0))


@emits("Unpack")
def _unstack(op, args):
    return _call("tf.unstack", args[0].text, f"num={int(_attr(op, 'num'))}",
                 _kw("axis", int(_attr(op, "axis")), 0))


@emits("Split")
def _split(op, args):
    return _call("tf.split", args[1].text, str(int(_attr(op, "num_split"))),
                 f"axis={args[0].const()}")


@emits("SplitV")
def _split_v(op, args):
    return _call("tf.split", args[0].text, args[1].const(), f"axis={args[2].const()}")


@emits("Pad", "PadV2", "MirrorPad")
def _pad(op, args):
    mode = _attr(op, "mode", "CONSTANT")
    extra = []
    if op.type == "PadV2":
        extra.append(f"constant_values={_scalar_or(args[2]).text}")
    if mode != "CONSTANT":
        extra.append(f"mode={literal(mode)}")
    return _call("tf.pad", args[0].text, args[1].const(), *extra)


@emits("Tile")
def _tile(op, args):
    return _call("tf.tile", args[0].text, args[1].const())


@emits("Slice")
def _slice(op, args):
    return _call("tf.slice", args[0].text, args[1].const(), args[2].const())


@emits("BroadcastTo")
def _broadcast_to(op, args):
    return _call("tf.broadcast_to", args[0].text, args[1].const())


@emits("Shape")
def _shape(op, args):
    out_type = tf.as_dtype(_attr(op, "out_type"))
    return _call("tf.shape", args[0].text, "" if out_type == tf.int32 else f"out_type=tf.{out_type.name}")


@emits("Fill")
def _fill(op, args):
    return _call("tf.fill", args[0].const(), _scalar_or(args[1]).text)


@emits("Range")
def _range(op, args):
    return _call("tf.range", _scalar_or(args[0]).text, _scalar_or(args[1]).text,
                 _scalar_or(args[2]).text, f"dtype=tf.{op.outputs[0].dtype.name}")


@emits("GatherV2")
def _gather(op, args):
    batch_dims = int(_attr(op, "batch_dims", 0))
    return _call("tf.gather", args[0].text, args[1].text, f"axis={args[2].const()}",
                 _kw("batch_dims", batch_dims, 0))


@emits("OneHot")
def _one_hot(op, args):
    return _call("tf.one_hot", args[0].text, args[1].const(),
                 f"on_value={_scalar_or(args[2]).text}", f"off_value={_scalar_or(args[3]).text}",
                 _kw("axis", int(_attr(op, "axis")), -1))


@emits("StridedSlice")
def _strided_slice(op, args):
    begin, end, strides = (np.asarray(a.value) if a.value is not None else None
                           for a in args[1:4])
    if begin is None or end is None or strides is None:
        raise NotConvertible("a strided slice with computed bounds")
    masks = {name: int(_attr(op, f"{name}_mask")) for name in
             ("begin", "end", "ellipsis", "new_axis", "shrink_axis")}
    parts = []
    for i in range(len(begin)):
        bit = 1 << i
        if masks["ellipsis"] & bit:
            parts.append("...")
        elif masks["new_axis"] & bit:
            parts.append("tf.newaxis")
        elif masks["shrink_axis"] & bit:
            parts.append(str(int(begin[i])))
        else:
            start = "" if masks["begin"] & bit else str(int(begin[i]))
            stop = "" if masks["end"] & bit else str(int(end[i]))
            step = "" if int(strides[i]) == 1 else f":{int(strides[i])}"
            parts.append(f"{start}:{stop}{step}")
    return Expr(f"{args[0].expr.at(ATOM)}[{', '.join(parts)}]")


# -- neural-network ops (raw weights that no layer pattern took) -------------------

def _nn_strides(op):
    return literal([int(s) for s in _attr(op, "strides")])


@emits("Conv2D", "Conv3D")
def _conv(op, args):
    padding = _attr(op, "padding")
    if padding == "EXPLICIT":
        raise NotConvertible("explicit padding")
    function = "tf.nn.conv2d" if op.type == "Conv2D" else "tf.nn.conv3d"
    dilations = [int(d) for d in _attr(op, "dilations")]
    data_format = _attr(op, "data_format")
    return _call(function, args[0].text, args[1].text, f"strides={_nn_strides(op)}",
                 f"padding={literal(padding)}",
                 "" if data_format in ("NHWC", "NDHWC") else f"data_format={literal(data_format)}",
                 "" if all(d == 1 for d in dilations) else f"dilations={literal(dilations)}")


@emits("DepthwiseConv2dNative")
def _depthwise(op, args):
    dilations = [int(d) for d in _attr(op, "dilations")]
    data_format = _attr(op, "data_format")
    return _call("tf.nn.depthwise_conv2d", args[0].text, args[1].text,
                 f"strides={_nn_strides(op)}", f"padding={literal(_attr(op, 'padding'))}",
                 "" if data_format == "NHWC" else f"data_format={literal(data_format)}",
                 "" if all(d == 1 for d in dilations) else f"dilations={literal(dilations[1:3])}")


@emits("MaxPool", "AvgPool", "MaxPool3D", "AvgPool3D")
def _pool(op, args):
    function = {"MaxPool": "tf.nn.max_pool2d", "AvgPool": "tf.nn.avg_pool2d",
                "MaxPool3D": "tf.nn.max_pool3d", "AvgPool3D": "tf.nn.avg_pool3d"}[op.type]
    data_format = _attr(op, "data_format")
    return _call(function, args[0].text, f"ksize={literal([int(k) for k in _attr(op, 'ksize')])}",
                 f"strides={_nn_strides(op)}", f"padding={literal(_attr(op, 'padding'))}",
                 "" if data_format in ("NHWC", "NDHWC") else f"data_format={literal(data_format)}")


@emits("L2Loss")
def _l2_loss(op, args):
    return _call("tf.nn.l2_loss", args[0].text)


# Ops that read a variable's handle directly.
@emits("ResourceGather")
def _resource_gather(op, args):
    batch_dims = int(_attr(op, "batch_dims", 0))
    return _call("tf.gather", args[0].text, args[1].text, _kw("batch_dims", batch_dims, 0))


MULTI_OUTPUT = {"Split", "SplitV", "Unpack"}

# Stateful op types that change nothing a forward pass returns when unused.
HARMLESS_UNUSED = {"ReadVariableOp", "NoOp", "Placeholder", "VarHandleOp", "Const",
                   "Identity", "RandomUniform", "RandomStandardNormal", "TruncatedNormal",
                   "RandomUniformInt", "RandomShuffle", "Multinomial"}
