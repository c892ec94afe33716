"""`Dense` / `dense`: a fully connected layer, `outputs = act(x @ kernel + bias)`."""

from __future__ import annotations

import tensorflow as tf

from tf1kit.layers.arguments import get_activation
from tf1kit.layers.base import Layer, construct_functional, op_input
from tf1kit.layers.input_spec import InputSpec


class Dense(Layer):
    """`outputs = activation(inputs @ kernel + bias)` over the last axis.

    Args:
        units: size of the last axis of the output.
        activation: callable or name; None is linear.
        use_bias: whether to add `bias`.
        kernel_initializer, bias_initializer: initializers; a None kernel
            initializer is TF1's default (glorot uniform, via get_variable).
        kernel_regularizer, bias_regularizer, activity_regularizer: optional.
        kernel_constraint, bias_constraint: optional projections after updates.
        trainable, name: see `Layer`.

    Example:

    ```python
    layer = tf.compat.v1.layers.Dense(3, activation=tf.nn.relu)
    layer(tf.ones([2, 5]))            # kernel dense/kernel [5, 3]
    layer.compute_output_shape((None, 7, 5))   # (None, 7, 3)
    ```
    """

    _keras3_kernel_alias = True
    _config_arguments = (
        "units", "activation", "use_bias", "kernel_initializer", "bias_initializer",
        "kernel_regularizer", "bias_regularizer", "activity_regularizer",
        "kernel_constraint", "bias_constraint")

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer=None,
                 bias_initializer=tf.compat.v1.zeros_initializer(), kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, trainable=True, name=None, **kwargs):
        super().__init__(trainable=trainable, name=name,
                         activity_regularizer=activity_regularizer, **kwargs)
        self.units = int(units) if not isinstance(units, int) else units
        if self.units <= 0:
            raise ValueError(
                "Received an invalid value for `units`, expected a positive "
                f"integer. Received: units={units}")
        self.activation = get_activation(activation)
        self.use_bias = use_bias
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = kernel_regularizer
        self.bias_regularizer = bias_regularizer
        self.kernel_constraint = kernel_constraint
        self.bias_constraint = bias_constraint
        self.input_spec = InputSpec(min_ndim=2)

    def build(self, input_shape):
        last_dim = tf.compat.dimension_value(tf.TensorShape(input_shape)[-1])
        if last_dim is None:
            raise ValueError(
                "The last dimension of the inputs to a Dense layer should be "
                f"defined. Found None. Full input shape received: {input_shape}")
        self.input_spec = InputSpec(min_ndim=2, axes={-1: last_dim})
        self.kernel = self.add_weight(
            "kernel", shape=[last_dim, self.units], initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                "bias", shape=[self.units], initializer=self.bias_initializer,
                regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.built = True

    def compute_output_shape(self, input_shape):
        input_shape = tf.TensorShape(input_shape).with_rank_at_least(2)
        if tf.compat.dimension_value(input_shape[-1]) is None:
            raise ValueError(
                "The last dimension of the input shape of a Dense layer should be "
                f"defined. Found None. Received: input_shape={input_shape}")
        return input_shape[:-1].concatenate(self.units)

    def call(self, inputs):
        rank = inputs.shape.rank
        if rank == 2 or rank is None:
            outputs = tf.matmul(inputs, op_input(self.kernel))
        else:
            # Contract the last axis only; the other axes are batch-like.
            outputs = tf.tensordot(inputs, self.kernel, [[rank - 1], [0]])
            outputs.set_shape(inputs.shape[:-1].concatenate([self.units]))
        if self.use_bias:
            outputs = tf.nn.bias_add(outputs, op_input(self.bias))
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs


def dense(inputs, units, activation=None, use_bias=True, kernel_initializer=None,
          bias_initializer=tf.compat.v1.zeros_initializer(), kernel_regularizer=None,
          bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
          bias_constraint=None, trainable=True, name=None, reuse=None):
    """Functional form of `Dense`; `name` doubles as the variable scope."""
    layer = construct_functional(Dense, dict(
        units=units, activation=activation, use_bias=use_bias,
        kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
        kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
        activity_regularizer=activity_regularizer,
        kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
        trainable=trainable, name=name, _scope=name, _reuse=reuse))
    return layer(inputs)
