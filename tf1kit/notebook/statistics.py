"""Value statistics for the inspector, computed where the variables live.

Only the rows on screen are measured. Each variable is reduced on its device
to a few scalars, and all scalars of a page come to the host in one transfer:
an 8M-parameter kernel costs a few reductions, not a float64 copy.
"""

from __future__ import annotations

import math

NO_CHANGE = -1.0  # marks "no previous value to compare with" inside the stacked tensor


def read(variable):
    """The variable's current value as a tensor (no host copy)."""
    import tensorflow as tf

    return tf.convert_to_tensor(variable)


def page_statistics(variables: dict, previous: dict) -> tuple[dict, dict]:
    """variables: key -> variable. Returns (key -> (mean, std, norm, change), new previous).

    `change` is the L2 norm of the difference from `previous[key]` (None when
    there is no earlier value of the same shape); `previous` keeps device
    tensors of the measured page only.
    """
    import tensorflow as tf

    keys, stacked, kept, sizes = [], [], {}, []
    for key, variable in variables.items():
        value = read(variable)
        if not (value.dtype.is_floating or value.dtype.is_integer or value.dtype.is_bool):
            continue  # strings, resources: no statistics
        as_float = tf.reshape(tf.cast(value, tf.float32), [-1])
        if as_float.shape[0] == 0:
            continue
        mean, variance = tf.nn.moments(as_float, axes=[0])
        before = previous.get(key)
        if before is not None and before.shape == as_float.shape:
            change = tf.norm(as_float - before)
        else:
            change = tf.constant(NO_CHANGE)
        keys.append(key)
        sizes.append(int(as_float.shape[0]))
        stacked.append(tf.stack([mean, variance, change]))
        kept[key] = as_float
    results = {}
    if stacked:
        host = tf.stack(stacked).numpy()  # the page's one transfer
        for key, size, (mean, variance, change) in zip(keys, sizes, host.tolist()):
            variance = max(variance, 0.0)
            norm = math.sqrt(size * (variance + mean * mean))
            results[key] = (mean, math.sqrt(variance), norm,
                            None if change == NO_CHANGE else change)
    return results, kept


def channel_means(pairs) -> list:
    """[(mean_variable, variance_variable)] -> [(mean over channels, ...)] in one transfer."""
    import tensorflow as tf

    values = []
    for mean_variable, variance_variable in pairs:
        for variable in (mean_variable, variance_variable):
            values.append(tf.reduce_mean(tf.cast(read(variable), tf.float32))
                          if variable is not None else tf.constant(float("nan")))
    if not values:
        return []
    host = tf.stack(values).numpy().tolist()
    return [(host[i], host[i + 1]) for i in range(0, len(host), 2)]


def host_vector(variable):
    """A small variable (one value per channel) as a flat numpy array."""
    import numpy as np
    import tensorflow as tf

    if variable is None:
        return None
    return np.asarray(tf.reshape(read(variable), [-1]).numpy(), dtype=np.float64)
