"""`tf.compat.v1.layers` for TensorFlow 2 + Keras 3.

Every layer here creates its variables with `tf.compat.v1.get_variable`
inside TF1 variable scopes, so names, sharing and initial values match TF1,
and inside `track_tf1_style_variables` the decorated owner tracks them.
`tf1kit.install()` makes `tf.compat.v1.layers` resolve to this module.
"""

from tf1kit.layers import experimental
from tf1kit.layers.base import Layer
from tf1kit.layers.batch_normalization import BatchNormalization, batch_normalization
from tf1kit.layers.conv_transpose import (
    Conv2DTranspose, Conv3DTranspose, conv2d_transpose, conv3d_transpose)
from tf1kit.layers.convolution import Conv1D, Conv2D, Conv3D, conv1d, conv2d, conv3d
from tf1kit.layers.dense import Dense, dense
from tf1kit.layers.dropout import Dropout, dropout
from tf1kit.layers.flatten import Flatten, flatten
from tf1kit.layers.input_spec import InputSpec
from tf1kit.layers.pooling import (
    AveragePooling1D, AveragePooling2D, AveragePooling3D, MaxPooling1D, MaxPooling2D,
    MaxPooling3D, average_pooling1d, average_pooling2d, average_pooling3d, max_pooling1d,
    max_pooling2d, max_pooling3d)
from tf1kit.layers.separable_conv import (
    SeparableConv1D, SeparableConv2D, separable_conv1d, separable_conv2d)

# TF1 aliases that tf.compat.v1.layers also exported.
Convolution1D, Convolution2D, Convolution3D = Conv1D, Conv2D, Conv3D
Convolution2DTranspose, Convolution3DTranspose = Conv2DTranspose, Conv3DTranspose
Deconvolution2D, Deconvolution3D = Conv2DTranspose, Conv3DTranspose
SeparableConvolution1D, SeparableConvolution2D = SeparableConv1D, SeparableConv2D
MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D

__all__ = [
    "AveragePooling1D", "AveragePooling2D", "AveragePooling3D", "BatchNormalization",
    "Conv1D", "Conv2D", "Conv2DTranspose", "Conv3D", "Conv3DTranspose", "Dense",
    "Dropout", "Flatten", "InputSpec", "Layer", "MaxPooling1D", "MaxPooling2D",
    "MaxPooling3D", "SeparableConv1D", "SeparableConv2D", "average_pooling1d",
    "average_pooling2d", "average_pooling3d", "batch_normalization", "conv1d", "conv2d",
    "conv2d_transpose", "conv3d", "conv3d_transpose", "dense", "dropout", "flatten",
    "max_pooling1d", "max_pooling2d", "max_pooling3d", "separable_conv1d",
    "separable_conv2d", "experimental",
]
