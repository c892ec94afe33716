"""Value statistics for the inspector, computed where the variables live.

Only the rows on screen are measured. Each variable is reduced on its device
to a few scalars by one traced function per page, and all scalars of a page
come to the host in one transfer: an 8M-parameter kernel costs a few
reductions, not a float64 copy.
"""

from __future__ import annotations

import math

def read(variable):
    """The variable's current value as a tensor (no host copy)."""
    import tensorflow as tf

    return tf.convert_to_tensor(variable)


def page_statistics(variables: dict, previous: dict) -> tuple[dict, dict]:
    """variables: key -> variable. Returns (key -> (mean, std, norm, change), new previous).

    `change` is the L2 norm of the difference from `previous[key]` (None when
    there is no earlier value of the same shape); `previous` keeps the device
    values of the measured page only.
    """
    import tensorflow as tf

    keys, values, flats, befores, compared = [], [], [], [], []
    for key, variable in variables.items():
        value = read(variable)
        dtype = value.dtype
        if not (dtype.is_floating or dtype.is_integer or dtype.is_bool) or dtype.is_complex:
            continue  # strings, resources, complex numbers: no statistics
        if value.shape.num_elements() == 0:
            continue
        flat = tf.reshape(value if dtype == tf.float32 else tf.cast(value, tf.float32), [-1])
        before = previous.get(key)
        same = before is not None and before.shape == flat.shape
        keys.append(key)
        values.append(value)
        flats.append(flat)
        befores.append(before if same else flat)
        compared.append(same)
    if not flats:
        return {}, {}
    # Every input is a float32 vector and the list length is rounded up to a
    # power of two, so pages of any shapes and dtypes share one trace per length.
    padding = [tf.zeros([1])] * (_bucket(len(flats)) - len(flats))
    host = _page_moments(flats + padding, befores + padding).numpy().tolist()  # one transfer
    results = {}
    for key, flat, same, (mean, variance, change) in zip(keys, flats, compared, host):
        variance = max(variance, 0.0)
        size = flat.shape.num_elements()
        results[key] = (mean, math.sqrt(variance), math.sqrt(size * (variance + mean * mean)),
                        change if same else None)
    return results, dict(zip(keys, flats))


def _bucket(count: int) -> int:
    return 1 << max(0, count - 1).bit_length()


def _moments(values, befores):
    import tensorflow as tf

    rows = []
    for flat, before in zip(values, befores):
        mean, variance = tf.nn.moments(flat, axes=[0])
        rows.append(tf.stack([mean, variance, tf.norm(flat - before)]))
    return tf.stack(rows)


_traced = {}  # (name, number of inputs) -> a tf.function traced once for float32 vectors


def _traced_for(name, function, count):
    """One trace per input count: the signature fixes every shape to [None]."""
    import tensorflow as tf

    key = (name, count)
    if key not in _traced:
        vectors = [tf.TensorSpec([None], tf.float32)] * count
        signature = [vectors, vectors] if name == "moments" else [vectors]
        _traced[key] = tf.function(function, input_signature=signature)
    return _traced[key]


def _page_moments(values, befores):
    """One dispatch for the whole page instead of a few ops per row."""
    return _traced_for("moments", _moments, len(values))(values, befores)


def channel_means(pairs) -> list:
    """[(mean_variable, variance_variable)] -> [(mean over channels, ...)] in one transfer."""
    import tensorflow as tf

    values = []
    for mean_variable, variance_variable in pairs:
        for variable in (mean_variable, variance_variable):
            values.append(tf.reshape(tf.cast(read(variable), tf.float32), [-1])
                          if variable is not None else tf.constant([float("nan")]))
    if not values:
        return []
    values += [tf.zeros([1])] * (_bucket(len(values)) - len(values))
    means = _traced_for("means", _means, len(values))
    host = means(values).numpy().tolist()
    return [(host[i], host[i + 1]) for i in range(0, 2 * len(pairs), 2)]


def _means(vectors):
    import tensorflow as tf

    return tf.stack([tf.reduce_mean(vector) for vector in vectors])


def host_vector(variable):
    """A small variable (one value per channel) as a flat numpy array."""
    import numpy as np
    import tensorflow as tf

    if variable is None:
        return None
    return np.asarray(tf.reshape(read(variable), [-1]).numpy(), dtype=np.float64)
