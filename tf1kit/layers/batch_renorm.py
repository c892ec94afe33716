"""Batch renormalization (Ioffe 2017) for `BatchNormalization(renorm=True)`.

Training normalizes with batch moments, then corrects towards the moving
moments with `r = batch_std / moving_std` and `d = (batch_mean -
moving_mean) / moving_std`, clipped by `renorm_clipping` (rmin, rmax, dmax).
Inference keeps a moving standard deviation, from which moving_variance is
derived.
"""

from __future__ import annotations

import tensorflow as tf

from tf1kit.layers.branching import smart_cond
from tf1kit.layers.moving_average import assign_moving_average, assign_value

_CLIPPING_KEYS = ("rmax", "rmin", "dmax")


class BatchRenorm:
    def __init__(self, clipping, momentum):
        clipping = dict(clipping or {})
        unknown = set(clipping) - set(_CLIPPING_KEYS)
        if unknown:
            raise ValueError(
                f"Received invalid keys for `renorm_clipping` argument: {clipping}. "
                f"Supported values: {list(_CLIPPING_KEYS)}.")
        self.clipping = clipping
        self.momentum = momentum

    def create_variables(self, layer, shape):
        variance_initializer = layer.moving_variance_initializer or tf.compat.v1.ones_initializer()

        def stddev_initializer(*args, **kwargs):
            return tf.sqrt(variance_initializer(*args, **kwargs))

        def statistic(name, initializer):
            return layer.add_weight(
                name, shape=shape, initializer=initializer, trainable=False,
                synchronization=tf.VariableSynchronization.ON_READ,
                aggregation=tf.VariableAggregation.MEAN)

        layer.moving_stddev = statistic("moving_stddev", stddev_initializer)
        layer.renorm_mean = statistic("renorm_mean", layer.moving_mean_initializer)
        layer.renorm_stddev = statistic("renorm_stddev", stddev_initializer)

    def correct(self, layer, mean, variance, training):
        """(r, d, mean, variance), updating the renorm averages when training."""
        stddev = tf.sqrt(variance + layer.epsilon)
        renorm_mean = tf.convert_to_tensor(layer.renorm_mean)
        renorm_stddev = tf.maximum(tf.convert_to_tensor(layer.renorm_stddev),
                                   tf.sqrt(layer.epsilon))
        r = stddev / renorm_stddev
        d = (mean - renorm_mean) / renorm_stddev
        # The corrections must see the averages from before this batch.
        with tf.control_dependencies([r, d]):
            mean, stddev = tf.identity(mean), tf.identity(stddev)
        r, d = self._clip(r, d)
        r = smart_cond(training, lambda: r, lambda: tf.ones_like(r))
        d = smart_cond(training, lambda: d, lambda: tf.zeros_like(d))
        new_mean = self._update(layer, layer.renorm_mean, mean, training)
        new_stddev = self._update(layer, layer.renorm_stddev, stddev, training)
        with tf.control_dependencies([new_mean, new_stddev]):
            return r, d, tf.identity(mean), tf.identity(variance)

    def update_moving_variance(self, layer, new_variance):
        """Averages the stddev (epsilon included), derives the variance."""
        stddev = assign_moving_average(layer.moving_stddev, tf.sqrt(new_variance + layer.epsilon),
                                layer.momentum)
        stddev = tf.convert_to_tensor(stddev)
        variance = tf.nn.relu(stddev * stddev - layer.epsilon)  # rounding can go < 0
        return assign_value(layer.moving_variance, variance)

    def _clip(self, r, d):
        rmin, rmax, dmax = (self.clipping.get(k) for k in ("rmin", "rmax", "dmax"))
        if rmin is not None:
            r = tf.maximum(r, rmin)
        if rmax is not None:
            r = tf.minimum(r, rmax)
        if dmax is not None:
            d = tf.clip_by_value(d, -dmax, dmax)
        return r, d

    def _update(self, layer, variable, value, training):
        value = tf.identity(value)
        return smart_cond(
            training,
            lambda: tf.convert_to_tensor(assign_moving_average(variable, value, self.momentum)),
            lambda: tf.identity(tf.convert_to_tensor(variable)))
