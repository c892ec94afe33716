"""Raw `get_variable` weights used the way a Keras layer uses them.

* `tf.matmul(x, w)` (+ `bias_add` or `+ b`) -> `keras.layers.Dense`
* `tf.nn.conv2d` / `conv3d` (+ bias) -> `keras.layers.Conv2D` / `Conv3D`
* `tf.nn.depthwise_conv2d` (+ bias) -> `keras.layers.DepthwiseConv2D`
* `tf.gather(table, ids)` / `tf.nn.embedding_lookup` -> `keras.layers.Embedding`
* `tf.einsum("abc,cd->abd", x, w)` (+ bias) -> `keras.layers.Dense` (BERT's dense)

A weight qualifies when nothing else reads it and its shape is the layer's;
anything else stays an op on a weight of the custom layer named after the
weight's scope.
"""

from __future__ import annotations

import dataclasses

from tf1kit.convert.ir import LayerSpec
from tf1kit.convert.patterns import graph_pattern

_GLOROT = "keras.initializers.GlorotUniform()"
_ZEROS = "keras.initializers.Zeros()"


@dataclasses.dataclass
class Match:
    """Ops that together are one layer: `inputs` in, `output` out."""

    ops: list
    inputs: list
    output: object
    spec: LayerSpec
    variables: list


def _with_bias(op, view):
    """(core op, bias variable or None) for `core + bias` ending at `op`."""
    if op.type == "BiasAdd" or op.type in ("AddV2", "Add"):
        for core_index, bias_index in ((0, 1), (1, 0)):
            if op.type == "BiasAdd" and core_index == 1:
                break
            bias = view.raw_variable(op.inputs[bias_index])
            core = view.producer(op.inputs[core_index])
            if (bias is not None and core is not None and len(bias.shape) == 1
                    and view.single_use(op.inputs[core_index]) and view.is_free(core)):
                if op.type == "BiasAdd" and op.get_attr("data_format") != b"NHWC" \
                        and core.type not in ("Conv2D", "Conv3D"):
                    return None, None
                return core, bias
        return None, None
    return op, None


def _bias_args(args, weights, view, bias, use_bias_default=True):
    if bias is None:
        args["use_bias"] = False
        return
    weights["bias"] = bias
    initializer = view.context.initializer(bias, None, bias.name)
    if initializer != _ZEROS:
        args["bias_initializer"] = initializer
    regularizer = view.context.regularizer(bias)
    if regularizer is not None:
        args["bias_regularizer"] = regularizer


def _kernel_args(args, view, kernel, name="kernel"):
    initializer = view.context.initializer(kernel, None, kernel.name)
    if initializer != _GLOROT:
        args[f"{name}_initializer"] = initializer
    regularizer = view.context.regularizer(kernel)
    if regularizer is not None:
        args[f"{name}_regularizer"] = regularizer


def _trainable(args, *variables):
    if not all(getattr(v, "trainable", True) for v in variables if v is not None):
        if any(getattr(v, "trainable", True) for v in variables if v is not None):
            return False
        args["trainable"] = False
    return True


@graph_pattern
def dense(op, view):
    core, bias = _with_bias(op, view)
    if core is None or core.type != "MatMul":
        return None
    if core.get_attr("transpose_a") or core.get_attr("transpose_b"):
        return None
    return _dense_on_last_axis(op, view, core, bias)


def _dense_on_last_axis(op, view, core, bias):
    """A Dense layer from `core` (x times a raw 2-D kernel) and its bias add."""
    kernel = view.raw_variable(core.inputs[1])
    if kernel is None or len(kernel.shape) != 2 or view.raw_variable(core.inputs[0]) is not None:
        return None
    if bias is not None and bias.shape[0] != kernel.shape[1]:
        return None
    args = {"units": int(kernel.shape[1])}
    weights = {"kernel": kernel}
    if not _trainable(args, kernel, bias):
        return None
    _kernel_args(args, view, kernel)
    _bias_args(args, weights, view, bias)
    ops = [core] if bias is None else [core, op]
    return Match(ops, [core.inputs[0]], op.outputs[0],
                 LayerSpec("keras.layers.Dense", args, weights, short_name="dense"),
                 [kernel, bias])


_DATA_FORMATS = {b"NHWC": "channels_last", b"NDHWC": "channels_last",
                 b"NCHW": "channels_first", b"NCDHW": "channels_first"}


def _spatial(values, data_format):
    values = list(values)
    return tuple(values[2:]) if data_format == "channels_first" else tuple(values[1:-1])


@graph_pattern
def convolution(op, view):
    core, bias = _with_bias(op, view)
    if core is None or core.type not in ("Conv2D", "Conv3D", "DepthwiseConv2dNative"):
        return None
    padding = core.get_attr("padding").decode()
    if padding not in ("SAME", "VALID"):
        return None
    kernel = view.raw_variable(core.inputs[1])
    if kernel is None or view.raw_variable(core.inputs[0]) is not None:
        return None
    data_format = _DATA_FORMATS.get(core.get_attr("data_format"))
    if data_format is None:
        return None
    if bias is not None and op.type != "BiasAdd" and data_format == "channels_first":
        return None
    rank = len(kernel.shape) - 2
    strides = _spatial(core.get_attr("strides"), data_format)
    dilations = _spatial(core.get_attr("dilations"), data_format)
    depthwise = core.type == "DepthwiseConv2dNative"
    args = {}
    if depthwise:
        class_name, short = "DepthwiseConv2D", "depthwise_conv2d"
        args["kernel_size"] = tuple(int(k) for k in kernel.shape[:rank])
        multiplier = int(kernel.shape[-1])
        if multiplier != 1:
            args["depth_multiplier"] = multiplier
        out_channels = int(kernel.shape[-2]) * multiplier
    else:
        class_name, short = f"Conv{rank}D", f"conv{rank}d"
        args["filters"] = int(kernel.shape[-1])
        args["kernel_size"] = tuple(int(k) for k in kernel.shape[:rank])
        out_channels = int(kernel.shape[-1])
    if bias is not None and bias.shape[0] != out_channels:
        return None
    args["strides"] = strides
    args["padding"] = padding.lower()
    args["data_format"] = data_format
    if any(d != 1 for d in dilations):
        args["dilation_rate"] = dilations
    if not _trainable(args, kernel, bias):
        return None
    weights = {"kernel": kernel}
    _kernel_args(args, view, kernel, "depthwise" if depthwise else "kernel")
    _bias_args(args, weights, view, bias)
    ops = [core] if bias is None else [core, op]
    return Match(ops, [core.inputs[0]], op.outputs[0],
                 LayerSpec(f"keras.layers.{class_name}", args, weights, short_name=short),
                 [kernel, bias])


@graph_pattern
def embedding(op, view):
    if op.type not in ("ResourceGather", "GatherV2") or op.get_attr("batch_dims") != 0:
        return None
    if op.type == "GatherV2":
        axis = view.constant(op.inputs[2])
        if axis is None or int(axis) != 0:
            return None
    table = view.raw_variable(op.inputs[0])
    if table is None or len(table.shape) != 2 or not op.inputs[1].dtype.is_integer:
        return None
    if view.raw_variable(op.inputs[1]) is not None:
        return None
    args = {"input_dim": int(table.shape[0]), "output_dim": int(table.shape[1])}
    if not _trainable(args, table):
        return None
    # Keras' Embedding draws uniform(-0.05, 0.05) by default; TF1's get_variable glorot.
    args["embeddings_initializer"] = view.context.initializer(table, None, table.name)
    regularizer = view.context.regularizer(table)
    if regularizer is not None:
        args["embeddings_regularizer"] = regularizer
    return Match([op], [op.inputs[1]], op.outputs[0],
                 LayerSpec("keras.layers.Embedding", args, {"embeddings": table},
                           short_name="embedding"),
                 [table])


@graph_pattern
def dense_einsum(op, view):
    """`tf.einsum("abc,cd->abd", x, w)`: a Dense layer on the last axis."""
    core, bias = _with_bias(op, view)
    if core is None or core.type != "Einsum" or len(core.inputs) != 2:
        return None
    equation = core.get_attr("equation").decode().replace(" ", "")
    inputs, output = equation.split("->")
    left, right = inputs.split(",")
    if len(right) != 2 or not left or right[0] != left[-1] or \
            output != left[:-1] + right[1] or right[1] in left or len(set(left)) != len(left):
        return None
    return _dense_on_last_axis(op, view, core, bias)
