"""`BatchNormalization` / `batch_normalization` with TF1's semantics.

* `training` (bool or tensor) picks batch statistics and moving-average
  updates, or the moving statistics. `trainable=False` freezes gamma and beta
  and drops the moving-average updates, but unlike Keras 2+ it does not force
  inference mode: training=True still normalizes with batch statistics (as
  the official shim does).
* Updates run at once eagerly and inside `tf.function` (automatic control
  dependencies order them). In a TF1 graph they become ops in `updates` and
  in the `UPDATE_OPS` collection, to be run by the user's train op.
* `fused=None` uses the fused kernel for 4-D/5-D inputs with channels on axis
  1 or last, as TF1 did. The fused kernel's variance (and so the moving
  variance) carries Bessel's correction; the non-fused path's does not.
* float16/bfloat16 inputs keep float32 parameters and statistics (TF1 raised
  them); the plain path takes moments in float32 and normalizes in the
  input's dtype. Under a mixed policy the layer computes in the policy's
  dtype the same way.
* `virtual_batch_size` (ghost batch norm) splits the batch into virtual
  batches whenever training is not known to be False (a placeholder
  included), as TF1 did; inference with a constant False needs no split.
"""

from __future__ import annotations

import tensorflow as tf

from tf1kit.layers import arguments as args
from tf1kit.layers.base import Layer, construct_functional, op_input
from tf1kit.layers.batch_renorm import BatchRenorm
from tf1kit.layers.branching import constant_value, resolve_training, smart_cond
from tf1kit.layers.input_spec import InputSpec
from tf1kit.layers.moving_average import assign_moving_average, assign_value, fused_decay

ZEROS = tf.compat.v1.zeros_initializer()
ONES = tf.compat.v1.ones_initializer()
_FUSED_LAYOUTS = {(4, 1): "NCHW", (4, 3): "NHWC", (5, 1): "NCDHW", (5, 4): "NDHWC"}


class BatchNormalization(Layer):
    """Normalizes by batch statistics when training, moving ones otherwise.

    Args:
        axis: the feature axis (or a list of axes) that keeps its own
            statistics; -1 is channels last.
        momentum: decay of the moving mean and variance.
        epsilon: added to the variance.
        center, scale: whether to learn `beta` / `gamma`.
        *_initializer, *_regularizer, *_constraint: for beta, gamma and the
            moving statistics.
        renorm, renorm_clipping, renorm_momentum: batch renormalization.
        fused: None/True for the fused kernel where it applies, False never.
        virtual_batch_size: ghost batch normalization over sub-batches.
        adjustment: callable giving (scale, bias) to adjust the normalized
            values while training.
        trainable, name: see `Layer`.

    Example:

    ```python
    bn = tf.compat.v1.layers.BatchNormalization(momentum=0.9)
    y = bn(tf.random.normal([8, 4]), training=True)   # updates the moving statistics
    ```
    """

    _autocast_variables = False  # parameters stay float32; the call casts them

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer=ZEROS, gamma_initializer=ONES,
                 moving_mean_initializer=ZEROS, moving_variance_initializer=ONES,
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, renorm=False, renorm_clipping=None,
                 renorm_momentum=0.99, fused=None, trainable=True, virtual_batch_size=None,
                 adjustment=None, name=None, **kwargs):
        super().__init__(trainable=trainable, name=name, **kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = list(axis)
        elif isinstance(axis, int):
            self.axis = axis
        else:
            raise TypeError(
                "Expected an int or a list/tuple of ints for the argument 'axis', "
                f"but received: {axis!r}")
        self.momentum = momentum
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.beta_initializer = beta_initializer
        self.gamma_initializer = gamma_initializer
        self.moving_mean_initializer = args.get_initializer(moving_mean_initializer)
        self.moving_variance_initializer = args.get_initializer(moving_variance_initializer)
        self.beta_regularizer = beta_regularizer
        self.gamma_regularizer = gamma_regularizer
        self.beta_constraint = beta_constraint
        self.gamma_constraint = gamma_constraint
        self.virtual_batch_size = virtual_batch_size
        self.adjustment = adjustment
        # TF1 decides at build time; None and True both mean "fused if possible".
        self.fused = True if fused is None else fused
        self._requested_axis = self.axis
        self.renorm = bool(renorm)
        self.renorm_clipping = renorm_clipping
        self.renorm_momentum = renorm_momentum
        self._renorm = BatchRenorm(renorm_clipping, renorm_momentum) if renorm else None

    def get_config(self):
        config = super().get_config()
        config["axis"] = self._requested_axis
        for argument in (
                "momentum", "epsilon", "center", "scale", "beta_initializer",
                "gamma_initializer", "moving_mean_initializer",
                "moving_variance_initializer", "beta_regularizer", "gamma_regularizer",
                "beta_constraint", "gamma_constraint"):
            config[argument] = getattr(self, argument)
        if self.renorm:
            config.update(renorm=True, renorm_clipping=self.renorm_clipping,
                          renorm_momentum=self.renorm_momentum)
        if self.virtual_batch_size is not None:
            config["virtual_batch_size"] = self.virtual_batch_size
        return config

    def compute_output_shape(self, input_shape):
        return input_shape  # unchanged, and as given (TF1 did not convert it)

    @property
    def _param_dtype(self):
        # TF1 raised half-precision parameters to float32.
        if self.dtype in ("float16", "bfloat16") or self.dtype is None:
            return "float32"
        return self.dtype

    # -- build -----------------------------------------------------------------
    def build(self, input_shape):
        input_shape = tf.TensorShape(input_shape)
        rank = input_shape.rank
        self.axis = _validate_axis(self.axis, input_shape)
        self._check_virtual_batching()
        self._choose_fused(rank)
        sizes = {a: tf.compat.dimension_value(input_shape[a]) for a in self.axis}
        if any(size is None for size in sizes.values()):
            raise ValueError(
                f"Input has undefined `axis` dimension. Received input with shape "
                f"{tuple(input_shape.as_list())} and axis={tuple(self.axis)}")
        self.input_spec = InputSpec(ndim=rank, axes=sizes)
        param_shape = self._param_shape(sizes, rank)
        param_dtype = self._param_dtype
        self.gamma = self.beta = None
        if self.scale:
            self.gamma = self.add_weight(
                "gamma", shape=param_shape, dtype=param_dtype,
                initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer, constraint=self.gamma_constraint,
                trainable=True)
        if self.center:
            self.beta = self.add_weight(
                "beta", shape=param_shape, dtype=param_dtype,
                initializer=self.beta_initializer,
                regularizer=self.beta_regularizer, constraint=self.beta_constraint,
                trainable=True)
        self.moving_mean = self._add_statistic("moving_mean", param_shape, param_dtype,
                                               self.moving_mean_initializer)
        self.moving_variance = self._add_statistic("moving_variance", param_shape, param_dtype,
                                                   self.moving_variance_initializer)
        if self._renorm is not None:
            self._renorm.create_variables(self, param_shape)
        self.built = True

    def _add_statistic(self, name, shape, dtype, initializer):
        """A moving statistic: not trained, averaged across replicas on read."""
        partitioner = self._scope.partitioner if self._scope is not None else None
        if partitioner is not None:
            self._scope.set_partitioner(None)  # statistics are never partitioned
        try:
            return self.add_weight(
                name, shape=shape, dtype=dtype, initializer=initializer,
                trainable=False,
                synchronization=tf.VariableSynchronization.ON_READ,
                aggregation=tf.VariableAggregation.MEAN)
        finally:
            if partitioner is not None:
                self._scope.set_partitioner(partitioner)

    def _check_virtual_batching(self):
        if self.virtual_batch_size is None:
            return
        if self.virtual_batch_size <= 0:
            raise ValueError(
                "`virtual_batch_size` must be a positive integer that divides the "
                f"true batch size of the input tensor. Received: "
                f"virtual_batch_size={self.virtual_batch_size}")
        if 0 in self.axis:
            raise ValueError(
                "When using `virtual_batch_size`, the batch dimension must be 0 and "
                f"thus axis cannot include 0. Received axis={self.axis}")
        if self.adjustment is not None:
            raise ValueError(
                "When using `virtual_batch_size`, adjustment cannot be specified")

    def _choose_fused(self, rank):
        # TF1 judged the axis as given (-1 and 3 both qualify), before resolving it.
        requested = self._requested_axis
        requested = [requested] if isinstance(requested, int) else requested
        fusable = (self._renorm is None and self.virtual_batch_size is None
                   and self.adjustment is None and len(requested) == 1
                   and requested[0] in (-4, -3, -1, 1, 3, 4))
        self.fused = bool(self.fused) and rank in (4, 5) and fusable
        if not self.fused:
            return
        layout = _FUSED_LAYOUTS.get((rank, self.axis[0]))
        if layout is None and rank == 5:
            self.fused = False  # other 5-D axes quietly use the plain path
        elif layout is None:
            raise ValueError(
                "Unsupported axis. The use of `fused=True` is only possible with "
                f"`axis=1` or `axis=3` for 4D input tensors. Received: "
                f"axis={tuple(self.axis)}")
        self._fused_layout = layout

    def _param_shape(self, sizes, rank):
        if len(sizes) == 1 and self.virtual_batch_size is None:
            return [next(iter(sizes.values()))]
        shape = [sizes.get(i, 1) for i in range(rank)]
        if self.virtual_batch_size is not None:
            shape.insert(1, 1)  # the axis that holds the virtual batches
            self.axis = [a + 1 for a in self.axis]
        return shape

    # -- call ------------------------------------------------------------------
    def call(self, inputs, training=False):
        training = resolve_training(training)
        if self.virtual_batch_size is None:
            if self.fused:
                return self._fused_call(inputs, training)
            return self._plain_call(inputs, training)
        full_shape = tf.concat([[-1], tf.shape(inputs)[1:]], axis=0)
        # TF1 split into virtual batches unless training is known to be False
        # (a placeholder too); inference needs no split, so any batch size works.
        leading = [-1, 1] if constant_value(training) is False else [self.virtual_batch_size, -1]
        grouped = tf.reshape(inputs, tf.concat([leading, tf.shape(inputs)[1:]], axis=0))
        outputs = self._plain_call(grouped, training)
        return tf.reshape(outputs, full_shape)

    def _fused_call(self, inputs, training):
        moving_mean, moving_variance = op_input(self.moving_mean), op_input(self.moving_variance)
        gamma = op_input(self.gamma) if self.scale else tf.ones_like(moving_mean)
        beta = op_input(self.beta) if self.center else tf.zeros_like(moving_mean)
        # TF2 (eager and tf.function) lets the kernel average in place, with
        # the decay rounded as TF1's graph rounded it (a number momentum only).
        decay = fused_decay(self.momentum)
        in_kernel_average = (decay is not None
                             and tf.compat.v1.executing_eagerly_outside_functions())
        factor = decay if in_kernel_average else 1.0

        def train():
            return tf.compat.v1.nn.fused_batch_norm(
                inputs, gamma, beta, mean=moving_mean, variance=moving_variance,
                epsilon=self.epsilon, is_training=True, data_format=self._fused_layout,
                exponential_avg_factor=factor)

        def infer():
            return tf.compat.v1.nn.fused_batch_norm(
                inputs, gamma, beta, mean=moving_mean, variance=moving_variance,
                epsilon=self.epsilon, is_training=False, data_format=self._fused_layout)

        outputs, mean, variance = smart_cond(training, train, infer)
        if constant_value(training) is False:
            return outputs
        if in_kernel_average:
            # The kernel returned the averaged statistics (inference: the old ones).
            self.add_update(lambda: assign_value(self.moving_mean, mean))
            self.add_update(lambda: assign_value(self.moving_variance, variance))
        else:
            # A TF1 graph (or a tensor momentum) averages outside the kernel, with
            # 1 - momentum taken in float32 as TF1 did; momentum 1 keeps the old value.
            momentum = smart_cond(training, lambda: tf.convert_to_tensor(self.momentum),
                                  lambda: tf.constant(1.0))
            self.add_update(lambda: assign_moving_average(self.moving_mean, mean, momentum))
            self.add_update(
                lambda: assign_moving_average(self.moving_variance, variance, momentum))
        return outputs

    def _plain_call(self, inputs, training):
        rank = inputs.shape.rank
        reduction_axes = [i for i in range(rank) if i not in self.axis]
        if self.virtual_batch_size is not None:
            del reduction_axes[1]
        broadcast = _broadcaster(rank, self.axis, reduction_axes, inputs.shape)
        scale, offset = broadcast(self.gamma), broadcast(self.beta)
        if constant_value(training) is False:
            mean, variance = self.moving_mean, self.moving_variance
        else:
            mean, variance, scale, offset = self._training_statistics(
                inputs, training, reduction_axes, broadcast, scale, offset)
        # As TF1: statistics in the parameters' dtype, normalization in the input's.
        cast = lambda t: None if t is None else tf.cast(t, inputs.dtype)  # noqa: E731
        outputs = tf.nn.batch_normalization(
            inputs, cast(broadcast(mean)), cast(broadcast(variance)), cast(offset),
            cast(scale), self.epsilon)
        outputs.set_shape(inputs.shape)
        return outputs

    def _training_statistics(self, inputs, training, reduction_axes, broadcast,
                             scale, offset):
        """Batch moments (when training) and the moving-average updates."""
        if self.adjustment:
            adjust_scale, adjust_bias = self.adjustment(tf.shape(inputs))
            adjust_scale = smart_cond(training, lambda: adjust_scale,
                                      lambda: tf.ones_like(adjust_scale))
            adjust_bias = smart_cond(training, lambda: adjust_bias,
                                     lambda: tf.zeros_like(adjust_bias))
            scale, offset = _compose(adjust_scale, adjust_bias, scale, offset)
        keepdims = self.virtual_batch_size is not None or len(self.axis) > 1
        batch_mean, batch_variance = tf.nn.moments(
            tf.cast(inputs, self.moving_mean.dtype), reduction_axes, keepdims=keepdims)
        mean = smart_cond(training, lambda: batch_mean,
                          lambda: tf.convert_to_tensor(self.moving_mean))
        variance = smart_cond(training, lambda: batch_variance,
                              lambda: tf.convert_to_tensor(self.moving_variance))
        new_mean, new_variance = mean, variance
        if self.virtual_batch_size is not None:
            new_mean = tf.reduce_mean(mean, axis=1, keepdims=True)
            new_variance = tf.reduce_mean(variance, axis=1, keepdims=True)
        if self._renorm is not None:
            r, d, new_mean, new_variance = self._renorm.correct(
                self, new_mean, new_variance, training)
            r = broadcast(tf.stop_gradient(r))
            d = broadcast(tf.stop_gradient(d))
            scale, offset = _compose(r, d, scale, offset)
        self.add_update(lambda: smart_cond(
            training, lambda: assign_moving_average(self.moving_mean, new_mean, self.momentum),
            lambda: tf.convert_to_tensor(self.moving_mean)))
        self.add_update(lambda: smart_cond(
            training, lambda: self._update_variance(new_variance),
            lambda: tf.convert_to_tensor(self.moving_variance)))
        return mean, variance, scale, offset

    def _update_variance(self, new_variance):
        if self._renorm is None:
            return assign_moving_average(self.moving_variance, new_variance, self.momentum)
        return self._renorm.update_moving_variance(self, new_variance)


def _validate_axis(axis, input_shape):
    rank = input_shape.rank
    if rank is None:
        raise ValueError(f"Input has undefined rank. Received: input_shape={input_shape}")
    axes = [axis] if isinstance(axis, int) else list(axis)
    resolved = [a + rank if a < 0 else a for a in axes]
    if any(not 0 <= a < rank for a in resolved):
        raise ValueError(
            "Invalid value for `axis` argument. Expected 0 <= axis < inputs.rank "
            f"(with inputs.rank={rank}). Received: axis={tuple(axes)}")
    if len(set(resolved)) != len(resolved):
        raise ValueError(f"Duplicate axis: {tuple(axes)}")
    return resolved


def _broadcaster(rank, axis, reduction_axes, shape):
    """Reshapes a per-channel vector to broadcast against the inputs."""
    target = [1] * rank
    target[axis[0]] = tf.compat.dimension_value(shape[axis[0]])
    channels_last_only = reduction_axes == list(range(rank - 1))

    def broadcast(value):
        if value is None or channels_last_only or value.shape.rank == rank:
            return value
        return tf.reshape(value, target)

    return broadcast


def _compose(scale, offset, then_scale, then_offset):
    """(x * scale + offset) * then_scale + then_offset as one scale/offset."""
    if then_scale is not None:
        scale = scale * then_scale
        offset = offset * then_scale
    if then_offset is not None:
        offset = offset + then_offset
    return scale, offset


def batch_normalization(inputs, axis=-1, momentum=0.99, epsilon=1e-3, center=True,
                        scale=True, beta_initializer=ZEROS, gamma_initializer=ONES,
                        moving_mean_initializer=ZEROS, moving_variance_initializer=ONES,
                        beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                        gamma_constraint=None, training=False, trainable=True, name=None,
                        reuse=None, renorm=False, renorm_clipping=None, renorm_momentum=0.99,
                        fused=None, virtual_batch_size=None, adjustment=None):
    layer = construct_functional(BatchNormalization, dict(
        axis=axis, momentum=momentum, epsilon=epsilon, center=center, scale=scale,
        beta_initializer=beta_initializer, gamma_initializer=gamma_initializer,
        moving_mean_initializer=moving_mean_initializer,
        moving_variance_initializer=moving_variance_initializer,
        beta_regularizer=beta_regularizer, gamma_regularizer=gamma_regularizer,
        beta_constraint=beta_constraint, gamma_constraint=gamma_constraint,
        renorm=renorm, renorm_clipping=renorm_clipping, renorm_momentum=renorm_momentum,
        fused=fused, trainable=trainable, virtual_batch_size=virtual_batch_size,
        adjustment=adjustment, name=name, _scope=name, _reuse=reuse))
    return layer(inputs, training=training)
