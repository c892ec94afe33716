"""`tf.compat.v1.layers` (and TF-Slim, which builds them) -> Keras 3 layers.

Arguments are written where TF1's value differs from the Keras 3 default, and
always where TF1's defaults differ from Keras 3's or depend on a global
setting (`data_format`, `padding`, batch-norm `momentum` and `epsilon`).
"""

from __future__ import annotations

import numbers

import tensorflow as tf

from tf1kit import layers as tf1
from tf1kit.convert.ir import LayerSpec
from tf1kit.convert.patterns import HELPERS, converts
from tf1kit.convert.values import NotConvertible, activation_code, constraint_code
from tf1kit.layers.arguments import get_constraint

_GLOROT = "keras.initializers.GlorotUniform()"
_ZEROS = "keras.initializers.Zeros()"
_ONES = "keras.initializers.Ones()"


def _common(layer, args):
    if not layer.trainable:
        args["trainable"] = False
    if layer.dtype not in (None, "float32"):
        args["dtype"] = layer.dtype
    if layer.activity_regularizer is not None:
        from tf1kit.convert.values import regularizer_code

        args["activity_regularizer"] = regularizer_code(layer.activity_regularizer)
    return args


def _weight_args(args, context, layer, variable, prefix, given_initializer, keras_default,
                 constraint):
    """`<prefix>_initializer/_regularizer/_constraint` for one weight."""
    initializer = context.initializer(variable, given_initializer,
                                      f"{variable.name} ({type(layer).__name__})")
    if initializer != keras_default:
        args[f"{prefix}_initializer"] = initializer
    regularizer = context.regularizer(variable)
    if regularizer is not None:
        args[f"{prefix}_regularizer"] = regularizer
    constraint = constraint_code(get_constraint(constraint))
    if constraint is not None:
        args[f"{prefix}_constraint"] = constraint


def _activation(args, layer):
    name = activation_code(layer.activation)
    if name is not None:
        args["activation"] = name


@converts(tf1.Dense)
def dense(call, context):
    layer = call.layer
    args = {"units": layer.units}
    _activation(args, layer)
    if not layer.use_bias:
        args["use_bias"] = False
    weights = {"kernel": layer.kernel}
    _weight_args(args, context, layer, layer.kernel, "kernel", layer.kernel_initializer,
                 _GLOROT, layer.kernel_constraint)
    if layer.use_bias:
        weights["bias"] = layer.bias
        _weight_args(args, context, layer, layer.bias, "bias", layer.bias_initializer,
                     _ZEROS, layer.bias_constraint)
    return LayerSpec("keras.layers.Dense", _common(layer, args), weights, short_name="dense")


_CONV_CLASSES = {
    tf1.Conv1D: "Conv1D", tf1.Conv2D: "Conv2D", tf1.Conv3D: "Conv3D",
    tf1.Conv2DTranspose: "Conv2DTranspose", tf1.Conv3DTranspose: "Conv3DTranspose",
    tf1.SeparableConv1D: "SeparableConv1D", tf1.SeparableConv2D: "SeparableConv2D",
}


@converts(*_CONV_CLASSES)
def convolution(call, context):
    layer = call.layer
    class_name = _CONV_CLASSES[type(layer)]
    separable = class_name.startswith("Separable")
    args = {"filters": layer.filters, "kernel_size": tuple(layer.kernel_size)}
    # Always written: layers that differ only in stride then share a class.
    args["strides"] = tuple(layer.strides)
    args["padding"] = layer.padding
    args["data_format"] = layer.data_format
    if "Transpose" not in class_name and any(d != 1 for d in layer.dilation_rate):
        args["dilation_rate"] = tuple(layer.dilation_rate)
    if separable and layer.depth_multiplier != 1:
        args["depth_multiplier"] = layer.depth_multiplier
    _activation(args, layer)
    if not layer.use_bias:
        args["use_bias"] = False
    weights = {}
    if separable:
        for part in ("depthwise", "pointwise"):
            variable = getattr(layer, f"{part}_kernel")
            weights[f"{part}_kernel"] = variable
            _weight_args(args, context, layer, variable, part,
                         getattr(layer, f"{part}_initializer"), _GLOROT,
                         getattr(layer, f"{part}_constraint"))
    else:
        weights["kernel"] = layer.kernel
        _weight_args(args, context, layer, layer.kernel, "kernel", layer.kernel_initializer,
                     _GLOROT, layer.kernel_constraint)
    if layer.use_bias:
        weights["bias"] = layer.bias
        _weight_args(args, context, layer, layer.bias, "bias", layer.bias_initializer,
                     _ZEROS, layer.bias_constraint)
    short = {"Conv1D": "conv1d", "Conv2D": "conv2d", "Conv3D": "conv3d"}.get(
        class_name, class_name.lower())
    return LayerSpec(f"keras.layers.{class_name}", _common(layer, args), weights,
                     short_name=short)


_POOLING_CLASSES = {
    tf1.MaxPooling1D: "MaxPooling1D", tf1.MaxPooling2D: "MaxPooling2D",
    tf1.MaxPooling3D: "MaxPooling3D", tf1.AveragePooling1D: "AveragePooling1D",
    tf1.AveragePooling2D: "AveragePooling2D", tf1.AveragePooling3D: "AveragePooling3D",
}


@converts(*_POOLING_CLASSES)
def pooling(call, context):
    layer = call.layer
    name = _POOLING_CLASSES[type(layer)]
    args = {"pool_size": tuple(layer.pool_size), "strides": tuple(layer.strides),
            "padding": layer.padding, "data_format": layer.data_format}
    short = "max_pool" if name.startswith("Max") else "avg_pool"
    return LayerSpec(f"keras.layers.{name}", args, short_name=short)


@converts(tf1.Flatten)
def flatten(call, context):
    return LayerSpec("keras.layers.Flatten", {"data_format": call.layer.data_format},
                     short_name="flatten")


@converts(tf1.Dropout)
def dropout(call, context):
    layer = call.layer
    if not isinstance(layer.rate, numbers.Real):
        raise NotConvertible("the dropout rate is a tensor, not a number")
    args = {"rate": float(layer.rate)}
    if layer.noise_shape is not None:
        args["noise_shape"] = tuple(layer.noise_shape)
    if layer.seed is not None:
        args["seed"] = layer.seed
    return LayerSpec("keras.layers.Dropout", args, short_name="dropout")


# Keras 3 normalizes and averages like TF1's plain (non-fused) batch norm. For
# 4-D and 5-D inputs TF1 used its fused kernel instead, which averages the
# unbiased (n / (n - 1)) batch variance into moving_variance and rounds
# differently; the batch statistics of small batches amplify the difference
# layer after layer. This layer runs that same kernel.
FUSED_BATCH_NORMALIZATION = '''\
@keras.saving.register_keras_serializable(package="{package}")
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """BatchNormalization computed by TF1's fused kernel (FusedBatchNormV3).

    TF1's batch normalization layers used this kernel for 4-D and 5-D inputs.
    Like Keras' BatchNormalization it trains with the batch statistics, but it
    averages the unbiased batch variance into moving_variance, with TF1's
    float32 decay.
    """

    def call(self, inputs, training=None):
        rank = len(inputs.shape)
        channels_last = self.axis in (-1, rank - 1)
        data_format = {{(4, True): "NHWC", (4, False): "NCHW",
                       (5, True): "NDHWC", (5, False): "NCDHW"}}[(rank, channels_last)]
        scale = self.gamma if self.scale else tf.ones_like(self.moving_mean)
        offset = self.beta if self.center else tf.zeros_like(self.moving_mean)
        training = bool(training) and self.trainable
        outputs, mean, variance, _, _, _ = tf.raw_ops.FusedBatchNormV3(
            x=inputs, scale=scale, offset=offset, mean=self.moving_mean,
            variance=self.moving_variance, epsilon=self.epsilon,
            exponential_avg_factor=self.decay if training else 1.0,
            data_format=data_format, is_training=training)
        if training:
            # The kernel returns the moving statistics, already averaged.
            self.moving_mean.assign(mean)
            self.moving_variance.assign(variance)
        return outputs

    @property
    def decay(self):
        """1 - momentum as TF1 took it, in float32: 1 - 0.9997 is 2.9999018e-4."""
        with tf.init_scope():  # a Python float, also while tracing
            return float(1.0 - tf.constant(self.momentum, tf.float32))
'''


@converts(tf1.BatchNormalization)
def batch_normalization(call, context):
    layer = call.layer
    if layer.renorm:
        raise NotConvertible("batch renormalization (renorm=True)")
    if layer.virtual_batch_size is not None:
        raise NotConvertible("virtual_batch_size")
    if layer.adjustment is not None:
        raise NotConvertible("an adjustment function")
    if not layer.trainable:
        raise NotConvertible(
            "trainable=False: Keras 3 then always normalizes with the moving statistics, "
            "while TF1 still used batch statistics when training")
    if len(layer.axis) != 1:
        raise NotConvertible(f"normalization over several axes {layer.axis}")
    rank = tf.TensorShape(call.inputs.shape).rank
    axis = layer.axis[0]
    args = {"axis": -1 if axis == rank - 1 else axis,
            "momentum": float(layer.momentum), "epsilon": float(layer.epsilon)}
    if not layer.center:
        args["center"] = False
    if not layer.scale:
        args["scale"] = False
    weights = {}
    for name, variable, given, default in [
            ("gamma", layer.gamma, layer.gamma_initializer, _ONES),
            ("beta", layer.beta, layer.beta_initializer, _ZEROS),
            ("moving_mean", layer.moving_mean, layer.moving_mean_initializer, _ZEROS),
            ("moving_variance", layer.moving_variance, layer.moving_variance_initializer,
             _ONES)]:
        if variable is None:
            continue
        weights[name] = variable
        initializer = context.initializer(variable, given, f"{variable.name} (BatchNormalization)")
        if initializer != default:
            args[f"{name}_initializer"] = initializer
        if name in ("gamma", "beta"):
            regularizer = context.regularizer(variable)
            if regularizer is not None:
                args[f"{name}_regularizer"] = regularizer
            constraint = constraint_code(get_constraint(getattr(layer, f"{name}_constraint")))
            if constraint is not None:
                args[f"{name}_constraint"] = constraint
    if layer.dtype not in (None, "float32"):
        args["dtype"] = layer.dtype
    if layer.fused:
        return LayerSpec("FusedBatchNormalization", args, weights,
                         helpers=("FusedBatchNormalization",), short_name="batch_norm")
    return LayerSpec("keras.layers.BatchNormalization", args, weights, short_name="batch_norm")


HELPERS["FusedBatchNormalization"] = FUSED_BATCH_NORMALIZATION
