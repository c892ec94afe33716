"""`InputSpec`: what a layer accepts, checked on every call as TF1 did."""

from __future__ import annotations

import tensorflow as tf


class InputSpec:
    """Rank, dtype, shape and fixed axis sizes a layer expects of its input.

    Args:
        dtype: the expected dtype.
        shape: the expected shape; None entries match any size (sets ndim).
        ndim, max_ndim, min_ndim: the expected rank or its bounds.
        axes: {axis: size} that must match.

    Example:

    ```python
    layer.input_spec = tf.compat.v1.layers.InputSpec(shape=(None, 3))
    layer(tf.ones([2, 4]))   # ValueError: ... expected shape=(None, 3), found shape=(2, 4)
    ```
    """

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None,
                 min_ndim=None, axes=None, allow_last_axis_squeeze=False,
                 name=None, optional=False):
        self.dtype = tf.as_dtype(dtype).name if dtype is not None else None
        self.shape = tuple(shape) if shape is not None else None
        self.ndim = len(self.shape) if self.shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.axes = dict(axes or {})
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        self.name = name
        self.optional = optional

    def __repr__(self):
        parts = [f"{key}={value}" for key, value in vars(self).items()
                 if value not in (None, {}, False)]
        return f"InputSpec({', '.join(parts)})"


def check_input(spec: InputSpec | None, inputs, layer_name: str, index: int = 0):
    """Raises TF1's ValueError when `inputs` does not fit `spec`."""
    if spec is None:
        return
    shape = tf.TensorShape(inputs.shape)
    prefix = f'Input {index} of layer "{layer_name}" is incompatible with the layer: '
    received = f"Full shape received: {tuple(shape.as_list()) if shape.rank is not None else None}"
    rank = shape.rank
    if rank is None:
        return
    if spec.ndim is not None and rank != spec.ndim:
        raise ValueError(f"{prefix}expected ndim={spec.ndim}, found ndim={rank}. {received}")
    if spec.max_ndim is not None and rank > spec.max_ndim:
        raise ValueError(
            f"{prefix}expected max_ndim={spec.max_ndim}, found ndim={rank}")
    if spec.min_ndim is not None and rank < spec.min_ndim:
        raise ValueError(
            f"{prefix}expected min_ndim={spec.min_ndim}, found ndim={rank}. {received}")
    if spec.dtype is not None and inputs.dtype.name != spec.dtype:
        raise ValueError(
            f"{prefix}expected dtype={spec.dtype}, found dtype={inputs.dtype.name}")
    if spec.shape is not None:
        for expected, actual in zip(spec.shape, shape.as_list()):
            if expected is not None and actual is not None and expected != actual:
                raise ValueError(
                    f"{prefix}expected shape={spec.shape}, found "
                    f"shape={tuple(shape.as_list())}")
    for axis, size in spec.axes.items():
        actual = shape[axis]
        if size is not None and actual is not None and actual != size:
            raise ValueError(
                f"{prefix}expected axis {axis} of input shape to have value {size}, "
                f"but received input with shape {tuple(shape.as_list())}")
