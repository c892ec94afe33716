"""`SeparableConv1D/2D` and their functional forms.

A depthwise convolution (`kernel_size + (in, depth_multiplier)`) followed by
a 1x1 pointwise one (`(1, 1, in * depth_multiplier, filters)`). The 1-D form
runs as 2-D on a height-1 image, as TF1 did.
"""

from __future__ import annotations

import tensorflow as tf

from tf1kit.layers.convolution import ZEROS, Conv, call_functional


class SeparableConv(Conv):
    """Depthwise then pointwise convolution (rank 1 or 2)."""

    _config_arguments = Conv._config_arguments + (
        "depth_multiplier", "depthwise_initializer", "pointwise_initializer",
        "depthwise_regularizer", "pointwise_regularizer", "depthwise_constraint",
        "pointwise_constraint")

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid",
                 data_format="channels_last", dilation_rate=1, depth_multiplier=1,
                 activation=None, use_bias=True, depthwise_initializer=None,
                 pointwise_initializer=None, bias_initializer=ZEROS,
                 depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None,
                 bias_constraint=None, trainable=True, name=None, **kwargs):
        super().__init__(rank, filters, kernel_size, strides, padding, data_format,
                         dilation_rate, activation, use_bias, None, bias_initializer,
                         None, bias_regularizer, activity_regularizer, None,
                         bias_constraint, trainable, name, **kwargs)
        self.depth_multiplier = depth_multiplier
        self.depthwise_initializer = depthwise_initializer
        self.pointwise_initializer = pointwise_initializer
        self.depthwise_regularizer = depthwise_regularizer
        self.pointwise_regularizer = pointwise_regularizer
        self.depthwise_constraint = depthwise_constraint
        self.pointwise_constraint = pointwise_constraint

    def build(self, input_shape):
        channels = self.input_channels(input_shape)
        self.depthwise_kernel = self.add_weight(
            "depthwise_kernel", shape=[*self.kernel_size, channels, self.depth_multiplier],
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint)
        self.pointwise_kernel = self.add_weight(
            "pointwise_kernel",
            shape=[*(1,) * self.rank, channels * self.depth_multiplier, self.filters],
            initializer=self.pointwise_initializer, regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint)
        self.add_bias()
        self.input_spec = type(self.input_spec)(
            ndim=self.rank + 2, axes={self.channel_axis: channels})
        self.built = True

    def call(self, inputs):
        inputs = self.to_channels_last(inputs)
        padding = self.padding
        if padding == "causal":
            inputs, padding = self.causal_pad(inputs), "valid"
        depthwise, pointwise = self.depthwise_kernel, self.pointwise_kernel
        strides, dilations = self.strides, self.dilation_rate
        if self.rank == 1:
            # A length-L sequence is a 1 x L image.
            inputs = tf.expand_dims(inputs, 1)
            depthwise, pointwise = tf.expand_dims(depthwise, 0), tf.expand_dims(pointwise, 0)
            strides, dilations = (1, *strides), (1, *dilations)
        outputs = tf.nn.separable_conv2d(
            inputs, depthwise, pointwise, strides=(1, *strides, 1),
            padding=padding.upper(), dilations=dilations)
        if self.rank == 1:
            outputs = tf.squeeze(outputs, [1])
        return self.finish(outputs)


class SeparableConv1D(SeparableConv):
    """Separable 1-D convolution.

    Args: as `Conv1D`, plus `depth_multiplier` and depthwise_*/pointwise_*
    initializers, regularizers and constraints.

    Example:

    ```python
    tf.compat.v1.layers.SeparableConv1D(4, 3)(tf.ones([2, 10, 3]))   # [2, 8, 4]
    ```
    """

    causal_allowed = True

    def __init__(self, filters, kernel_size, strides=1, padding="valid",
                 data_format="channels_last", dilation_rate=1, depth_multiplier=1,
                 activation=None, use_bias=True, depthwise_initializer=None,
                 pointwise_initializer=None, bias_initializer=ZEROS,
                 depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None,
                 bias_constraint=None, trainable=True, name=None, **kwargs):
        super().__init__(1, filters, kernel_size, strides, padding, data_format,
                         dilation_rate, depth_multiplier, activation, use_bias,
                         depthwise_initializer, pointwise_initializer, bias_initializer,
                         depthwise_regularizer, pointwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, pointwise_constraint,
                         bias_constraint, trainable, name, **kwargs)


class SeparableConv2D(SeparableConv):
    """Separable 2-D convolution.

    Args: as `Conv2D`, plus `depth_multiplier` and depthwise_*/pointwise_*
    initializers, regularizers and constraints.

    Example:

    ```python
    tf.compat.v1.layers.SeparableConv2D(4, 3)(tf.ones([1, 5, 5, 3]))   # [1, 3, 3, 4]
    ```
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 data_format="channels_last", dilation_rate=(1, 1), depth_multiplier=1,
                 activation=None, use_bias=True, depthwise_initializer=None,
                 pointwise_initializer=None, bias_initializer=ZEROS,
                 depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None,
                 bias_constraint=None, trainable=True, name=None, **kwargs):
        super().__init__(2, filters, kernel_size, strides, padding, data_format,
                         dilation_rate, depth_multiplier, activation, use_bias,
                         depthwise_initializer, pointwise_initializer, bias_initializer,
                         depthwise_regularizer, pointwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, pointwise_constraint,
                         bias_constraint, trainable, name, **kwargs)


def separable_conv1d(inputs, filters, kernel_size, strides=1, padding="valid",
                     data_format="channels_last", dilation_rate=1, depth_multiplier=1,
                     activation=None, use_bias=True, depthwise_initializer=None,
                     pointwise_initializer=None, bias_initializer=ZEROS,
                     depthwise_regularizer=None, pointwise_regularizer=None,
                     bias_regularizer=None, activity_regularizer=None,
                     depthwise_constraint=None, pointwise_constraint=None,
                     bias_constraint=None, trainable=True, name=None, reuse=None):
    return call_functional(SeparableConv1D, inputs, locals())


def separable_conv2d(inputs, filters, kernel_size, strides=(1, 1), padding="valid",
                     data_format="channels_last", dilation_rate=(1, 1),
                     depth_multiplier=1, activation=None, use_bias=True,
                     depthwise_initializer=None, pointwise_initializer=None,
                     bias_initializer=ZEROS, depthwise_regularizer=None,
                     pointwise_regularizer=None, bias_regularizer=None,
                     activity_regularizer=None, depthwise_constraint=None,
                     pointwise_constraint=None, bias_constraint=None, trainable=True,
                     name=None, reuse=None):
    return call_functional(SeparableConv2D, inputs, locals())
