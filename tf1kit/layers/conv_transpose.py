"""`Conv2DTranspose/Conv3DTranspose` and their functional forms.

Kernel shape is `kernel_size + (filters, input_channels)`; each output
spatial size is `size * stride`, plus `max(kernel - stride, 0)` for "valid".
"""

from __future__ import annotations

import tensorflow as tf

from tf1kit.layers.convolution import ZEROS, Conv, call_functional


class ConvTranspose(Conv):
    """Transposed convolution: the gradient of `Conv` with respect to its input."""

    _config_arguments = Conv._config_arguments + ("output_padding",)
    output_padding = None  # TF1's transposed convolutions had no output padding

    def build(self, input_shape):
        if tf.TensorShape(input_shape).rank != self.rank + 2:
            raise ValueError(
                f"Inputs should have rank {self.rank + 2}. "
                f"Received input_shape={input_shape}.")
        channels = self.input_channels(input_shape)
        self.kernel = self.add_weight(
            "kernel", shape=[*self.kernel_size, self.filters, channels],
            initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint)
        self.add_bias()
        self.input_spec = type(self.input_spec)(
            ndim=self.rank + 2, axes={self.channel_axis: channels})
        self.built = True

    def call(self, inputs):
        inputs = self.to_channels_last(inputs)
        dynamic = tf.shape(inputs)
        sizes = [self._output_size(dynamic[i + 1], inputs.shape[i + 1], i)
                 for i in range(self.rank)]
        output_shape = tf.stack([dynamic[0], *[s for s, _ in sizes], self.filters])
        outputs = tf.nn.conv_transpose(
            inputs, self.kernel, output_shape, strides=list(self.strides),
            padding=self.padding.upper())
        outputs.set_shape([inputs.shape[0], *[s for _, s in sizes], self.filters])
        return self.finish(outputs)

    def compute_output_shape(self, input_shape):
        dims = tf.TensorShape(input_shape).with_rank(self.rank + 2).as_list()
        first = self.data_format == "channels_first"
        spatial = dims[2:] if first else dims[1:-1]
        sizes = [self._output_size(None, size, axis)[1] for axis, size in enumerate(spatial)]
        if first:
            return tf.TensorShape([dims[0], self.filters, *sizes])
        return tf.TensorShape([dims[0], *sizes, self.filters])

    def _output_size(self, dynamic_size, static_size, axis):
        """(tensor, int-or-None) output length along one spatial axis."""
        kernel, stride = self.kernel_size[axis], self.strides[axis]
        extra = max(kernel - stride, 0) if self.padding == "valid" else 0
        static = None if static_size is None else static_size * stride + extra
        dynamic = None if dynamic_size is None else dynamic_size * stride + extra
        return dynamic, static


class Conv2DTranspose(ConvTranspose):
    """Transposed 2-D convolution ("deconvolution").

    Args: as `Conv2D` (no dilation); each output side is `size * stride`,
    plus `max(kernel - stride, 0)` for "valid" padding.

    Example:

    ```python
    tf.compat.v1.layers.Conv2DTranspose(2, 3, strides=2)(tf.ones([1, 4, 4, 3]))  # [1, 9, 9, 2]
    ```
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 data_format="channels_last", activation=None, use_bias=True,
                 kernel_initializer=None, bias_initializer=ZEROS, kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, trainable=True, name=None, **kwargs):
        super().__init__(2, filters, kernel_size, strides, padding, data_format, 1,
                         activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, trainable, name, **kwargs)


class Conv3DTranspose(ConvTranspose):
    """Transposed 3-D convolution; arguments as `Conv2DTranspose`, 3-tuples."""

    _config_arguments = tuple(a for a in ConvTranspose._config_arguments
                              if a != "dilation_rate")

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid",
                 data_format="channels_last", activation=None, use_bias=True,
                 kernel_initializer=None, bias_initializer=ZEROS, kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, trainable=True, name=None, **kwargs):
        super().__init__(3, filters, kernel_size, strides, padding, data_format, 1,
                         activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, trainable, name, **kwargs)


def conv2d_transpose(inputs, filters, kernel_size, strides=(1, 1), padding="valid",
                     data_format="channels_last", activation=None, use_bias=True,
                     kernel_initializer=None, bias_initializer=ZEROS,
                     kernel_regularizer=None, bias_regularizer=None,
                     activity_regularizer=None, kernel_constraint=None,
                     bias_constraint=None, trainable=True, name=None, reuse=None):
    return call_functional(Conv2DTranspose, inputs, locals())


def conv3d_transpose(inputs, filters, kernel_size, strides=(1, 1, 1), padding="valid",
                     data_format="channels_last", activation=None, use_bias=True,
                     kernel_initializer=None, bias_initializer=ZEROS,
                     kernel_regularizer=None, bias_regularizer=None,
                     activity_regularizer=None, kernel_constraint=None,
                     bias_constraint=None, trainable=True, name=None, reuse=None):
    return call_functional(Conv3DTranspose, inputs, locals())
