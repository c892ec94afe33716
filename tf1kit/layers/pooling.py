"""Max and average pooling over 1, 2 or 3 spatial axes, TF1 signatures.

In TF1's `tf.compat.v1.layers`, `strides` is a required argument (unlike
Keras, where it defaults to the pool size); `None` is refused.
"""

from __future__ import annotations

import tensorflow as tf

from tf1kit.layers import arguments as args
from tf1kit.layers.base import Layer
from tf1kit.layers.input_spec import InputSpec


class Pooling(Layer):
    """A pooling layer of one rank and one reduction (max or average).

    Args:
        pool_size: an int or a tuple of `rank` ints.
        strides: an int or a tuple of `rank` ints (required, as in TF1).
        padding: "valid" or "same".
        data_format: "channels_last" (default) or "channels_first".

    Example:

    ```python
    tf.compat.v1.layers.MaxPooling2D(2, 2)(tf.ones([1, 4, 4, 3]))   # [1, 2, 2, 3]
    ```
    """

    _config_arguments = ("pool_size", "padding", "strides", "data_format")

    rank: int  # number of spatial axes, set by each subclass
    # tf.nn.max_pool / avg_pool pick the kernel by rank, but for 5-D inputs
    # they leave the op's data_format unset, and its gradient then fails
    # eagerly; the 3-D layers call TF1's own max_pool3d / avg_pool3d.
    reduce: staticmethod

    def __init__(self, pool_size, strides, padding="valid",
                 data_format="channels_last", name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        if strides is None:
            raise ValueError("Argument `strides` must not be None.")
        self.pool_size = args.normalize_tuple(pool_size, self.rank, "pool_size")
        self.strides = args.normalize_tuple(strides, self.rank, "strides")
        self.padding = args.normalize_padding(padding)
        self.data_format = args.normalize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def compute_output_shape(self, input_shape):
        dims = tf.TensorShape(input_shape).with_rank(self.rank + 2).as_list()
        first = self.data_format == "channels_first"
        spatial = dims[2:] if first else dims[1:-1]
        sizes = []
        for axis, size in enumerate(spatial):
            if size is not None and self.padding == "valid":
                size = size - self.pool_size[axis] + 1
            stride = self.strides[axis]
            sizes.append(None if size is None else (size + stride - 1) // stride)
        if first:
            return tf.TensorShape([dims[0], dims[1], *sizes])
        return tf.TensorShape([dims[0], *sizes, dims[-1]])

    def call(self, inputs):
        channels_first = self.data_format == "channels_first"
        if channels_first:
            inputs = tf.transpose(inputs, [0, *range(2, self.rank + 2), 1])
        outputs = self.reduce(inputs, ksize=list(self.pool_size),
                              strides=list(self.strides), padding=self.padding.upper())
        if channels_first:
            outputs = tf.transpose(outputs, [0, self.rank + 1, *range(1, self.rank + 1)])
        return outputs


class MaxPooling1D(Pooling):
    rank = 1
    reduce = staticmethod(tf.nn.max_pool)


class MaxPooling2D(Pooling):
    rank = 2
    reduce = staticmethod(tf.nn.max_pool)


class MaxPooling3D(Pooling):
    rank = 3
    reduce = staticmethod(tf.nn.max_pool3d)


class AveragePooling1D(Pooling):
    rank = 1
    reduce = staticmethod(tf.nn.avg_pool)


class AveragePooling2D(Pooling):
    rank = 2
    reduce = staticmethod(tf.nn.avg_pool)


class AveragePooling3D(Pooling):
    rank = 3
    reduce = staticmethod(tf.nn.avg_pool3d)


def max_pooling1d(inputs, pool_size, strides, padding="valid",
                  data_format="channels_last", name=None):
    return MaxPooling1D(pool_size, strides, padding, data_format, name=name)(inputs)


def max_pooling2d(inputs, pool_size, strides, padding="valid",
                  data_format="channels_last", name=None):
    return MaxPooling2D(pool_size, strides, padding, data_format, name=name)(inputs)


def max_pooling3d(inputs, pool_size, strides, padding="valid",
                  data_format="channels_last", name=None):
    return MaxPooling3D(pool_size, strides, padding, data_format, name=name)(inputs)


def average_pooling1d(inputs, pool_size, strides, padding="valid",
                      data_format="channels_last", name=None):
    return AveragePooling1D(pool_size, strides, padding, data_format, name=name)(inputs)


def average_pooling2d(inputs, pool_size, strides, padding="valid",
                      data_format="channels_last", name=None):
    return AveragePooling2D(pool_size, strides, padding, data_format, name=name)(inputs)


def average_pooling3d(inputs, pool_size, strides, padding="valid",
                      data_format="channels_last", name=None):
    return AveragePooling3D(pool_size, strides, padding, data_format, name=name)(inputs)
