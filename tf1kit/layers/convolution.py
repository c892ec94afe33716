"""`Conv1D/2D/3D` and `conv1d/2d/3d`: N-D convolution with TF1 variables.

Kernel shape is `kernel_size + (input_channels, filters)`. Channels-first
inputs are computed channels-last (transpose in, transpose out) because
TensorFlow's CPU kernels only take channels-last; the numbers are the same.
"""

from __future__ import annotations

import tensorflow as tf

from tf1kit.layers import arguments as args
from tf1kit.layers.base import Layer, construct_functional, op_input
from tf1kit.layers.input_spec import InputSpec

ZEROS = tf.compat.v1.zeros_initializer()


class Conv(Layer):
    """Shared machinery of the convolution layers (rank 1, 2 or 3)."""

    causal_allowed = False
    _config_arguments = (
        "filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
        "activation", "use_bias", "kernel_initializer", "bias_initializer",
        "kernel_regularizer", "bias_regularizer", "activity_regularizer",
        "kernel_constraint", "bias_constraint")

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid",
                 data_format="channels_last", dilation_rate=1, activation=None,
                 use_bias=True, kernel_initializer=None, bias_initializer=ZEROS,
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, trainable=True, name=None,
                 **kwargs):
        super().__init__(trainable=trainable, name=name,
                         activity_regularizer=activity_regularizer, **kwargs)
        self.rank = rank
        if filters is not None and (not isinstance(filters, int) or filters <= 0):
            raise ValueError(
                "Invalid value for argument `filters`. Expected a strictly positive "
                f"value. Received filters={filters}.")
        self.filters = filters
        self.kernel_size = args.normalize_tuple(kernel_size, rank, "kernel_size")
        self.strides = args.normalize_tuple(strides, rank, "strides")
        self.padding = args.normalize_padding(padding, allow_causal=self.causal_allowed)
        self.data_format = args.normalize_data_format(data_format)
        self.dilation_rate = args.normalize_tuple(dilation_rate, rank, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                "`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}")
        self.activation = args.get_activation(activation)
        self.use_bias = use_bias
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = kernel_regularizer
        self.bias_regularizer = bias_regularizer
        self.kernel_constraint = kernel_constraint
        self.bias_constraint = bias_constraint
        self.input_spec = InputSpec(min_ndim=rank + 2)

    # -- helpers shared with transpose and separable convolutions -----------
    @property
    def channel_axis(self) -> int:
        return 1 if self.data_format == "channels_first" else -1

    def input_channels(self, input_shape) -> int:
        input_shape = tf.TensorShape(input_shape)
        channels = tf.compat.dimension_value(input_shape[self.channel_axis])
        if channels is None:
            raise ValueError(
                "The channel dimension of the inputs should be defined. The "
                f"input_shape received is {input_shape}, where axis "
                f"{self.channel_axis} (0-based) is the channel dimension, which "
                "found to be `None`.")
        return channels

    def fix_input_spec(self, channels: int):
        self.input_spec = InputSpec(min_ndim=self.rank + 2, axes={self.channel_axis: channels})

    def to_channels_last(self, inputs):
        if self.data_format == "channels_last":
            return inputs
        return tf.transpose(inputs, [0, *range(2, self.rank + 2), 1])

    def from_channels_last(self, outputs):
        if self.data_format == "channels_last":
            return outputs
        return tf.transpose(outputs, [0, self.rank + 1, *range(1, self.rank + 1)])

    def causal_pad(self, inputs):
        """Left-pads the (channels-last) time axis so no output sees the future."""
        left = self.dilation_rate[0] * (self.kernel_size[0] - 1)
        return tf.pad(inputs, [[0, 0], [left, 0], [0, 0]])

    def finish(self, outputs):
        """Bias and activation on a channels-last result, then the user's layout."""
        if self.use_bias:
            outputs = tf.nn.bias_add(outputs, op_input(self.bias))
        if self.activation is not None:
            outputs = self.activation(outputs)
        return self.from_channels_last(outputs)

    def add_bias(self):
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                "bias", shape=[self.filters], initializer=self.bias_initializer,
                regularizer=self.bias_regularizer, constraint=self.bias_constraint)

    def spatial_output_size(self, size, axis):
        """Output length along spatial `axis` for an input length `size`."""
        if size is None:
            return None
        kernel = self.kernel_size[axis]
        dilated = kernel + (kernel - 1) * (self.dilation_rate[axis] - 1)
        if self.padding == "valid":
            size = size - dilated + 1
        return (size + self.strides[axis] - 1) // self.strides[axis]

    def compute_output_shape(self, input_shape):
        dims = tf.TensorShape(input_shape).with_rank(self.rank + 2).as_list()
        first = self.data_format == "channels_first"
        spatial = dims[2:] if first else dims[1:-1]
        sizes = [self.spatial_output_size(size, axis) for axis, size in enumerate(spatial)]
        if first:
            return tf.TensorShape([dims[0], self.filters, *sizes])
        return tf.TensorShape([dims[0], *sizes, self.filters])

    # -- plain convolution ---------------------------------------------------
    def build(self, input_shape):
        channels = self.input_channels(input_shape)
        self.kernel = self.add_weight(
            "kernel", shape=[*self.kernel_size, channels, self.filters],
            initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint)
        self.add_bias()
        self.fix_input_spec(channels)
        self.built = True

    def call(self, inputs):
        inputs = self.to_channels_last(inputs)
        padding = self.padding
        if padding == "causal":
            inputs, padding = self.causal_pad(inputs), "valid"
        # The layout named explicitly: given a real tf.Variable, the C fast
        # path runs the op and records only the attributes passed, and
        # Conv3D's gradient reads `data_format` back.
        outputs = tf.nn.convolution(
            inputs, op_input(self.kernel), strides=list(self.strides), padding=padding.upper(),
            dilations=list(self.dilation_rate), data_format=_CHANNELS_LAST[self.rank],
            name=f"Conv{self.rank}D")
        return self.finish(outputs)


_CHANNELS_LAST = {1: "NWC", 2: "NHWC", 3: "NDHWC"}


class Conv1D(Conv):
    """1-D convolution over `[batch, length, channels]` (or channels first).

    Args:
        filters: number of output channels.
        kernel_size, strides, dilation_rate: an int or a 1-tuple.
        padding: "valid", "same" or "causal".
        data_format: "channels_last" (default) or "channels_first".
        activation, use_bias, kernel_*/bias_*/activity_regularizer,
        trainable, name: as in `Dense`.

    Example:

    ```python
    tf.compat.v1.layers.Conv1D(4, 3)(tf.ones([2, 10, 3]))   # shape [2, 8, 4]
    ```
    """

    _keras3_kernel_alias = True

    causal_allowed = True

    def __init__(self, filters, kernel_size, strides=1, padding="valid",
                 data_format="channels_last", dilation_rate=1, activation=None,
                 use_bias=True, kernel_initializer=None, bias_initializer=ZEROS,
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, trainable=True, name=None,
                 **kwargs):
        super().__init__(1, filters, kernel_size, strides, padding, data_format,
                         dilation_rate, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint,
                         trainable, name, **kwargs)


class Conv2D(Conv):
    """2-D convolution over `[batch, height, width, channels]` (or NCHW).

    Args:
        filters: number of output channels.
        kernel_size, strides, dilation_rate: an int or a 2-tuple.
        padding: "valid" or "same".
        data_format: "channels_last" (default) or "channels_first".
        activation, use_bias, kernel_*/bias_*/activity_regularizer,
        trainable, name: as in `Dense`.

    Example:

    ```python
    tf.compat.v1.layers.Conv2D(8, 3, padding="same")(tf.ones([1, 5, 5, 3]))
    ```
    """

    _keras3_kernel_alias = True

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 data_format="channels_last", dilation_rate=(1, 1), activation=None,
                 use_bias=True, kernel_initializer=None, bias_initializer=ZEROS,
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, trainable=True, name=None,
                 **kwargs):
        super().__init__(2, filters, kernel_size, strides, padding, data_format,
                         dilation_rate, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint,
                         trainable, name, **kwargs)


class Conv3D(Conv):
    """3-D convolution over `[batch, depth, height, width, channels]`.

    Args: as `Conv2D`, with 3-tuples.

    Example:

    ```python
    tf.compat.v1.layers.Conv3D(2, 2)(tf.ones([1, 4, 4, 4, 1]))   # [1, 3, 3, 3, 2]
    ```
    """

    _keras3_kernel_alias = True

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid",
                 data_format="channels_last", dilation_rate=(1, 1, 1), activation=None,
                 use_bias=True, kernel_initializer=None, bias_initializer=ZEROS,
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, trainable=True, name=None,
                 **kwargs):
        super().__init__(3, filters, kernel_size, strides, padding, data_format,
                         dilation_rate, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint,
                         trainable, name, **kwargs)


def conv1d(inputs, filters, kernel_size, strides=1, padding="valid",
           data_format="channels_last", dilation_rate=1, activation=None, use_bias=True,
           kernel_initializer=None, bias_initializer=ZEROS, kernel_regularizer=None,
           bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
           bias_constraint=None, trainable=True, name=None, reuse=None):
    return call_functional(Conv1D, inputs, locals())


def conv2d(inputs, filters, kernel_size, strides=(1, 1), padding="valid",
           data_format="channels_last", dilation_rate=(1, 1), activation=None,
           use_bias=True, kernel_initializer=None, bias_initializer=ZEROS,
           kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
           kernel_constraint=None, bias_constraint=None, trainable=True, name=None,
           reuse=None):
    return call_functional(Conv2D, inputs, locals())


def conv3d(inputs, filters, kernel_size, strides=(1, 1, 1), padding="valid",
           data_format="channels_last", dilation_rate=(1, 1, 1), activation=None,
           use_bias=True, kernel_initializer=None, bias_initializer=ZEROS,
           kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
           kernel_constraint=None, bias_constraint=None, trainable=True, name=None,
           reuse=None):
    return call_functional(Conv3D, inputs, locals())


def call_functional(layer_class, inputs, arguments: dict):
    """Shared body of the functional forms: `name` is also the scope."""
    options = {k: v for k, v in arguments.items() if k not in ("inputs", "reuse")}
    layer = construct_functional(
        layer_class, {**options, "_scope": options["name"], "_reuse": arguments["reuse"]})
    return layer(inputs)
