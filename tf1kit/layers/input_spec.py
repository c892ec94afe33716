"""`InputSpec`: what a layer accepts, checked on every call as TF1 did."""

from __future__ import annotations

import tensorflow as tf
from tensorflow.python.framework.ops import EagerTensor


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
    dims = static_dims(inputs)
    if dims is None:
        return
    rank = len(dims)

    def incompatible(found, full_shape=True):
        received = f" Full shape received: {dims}" if full_shape else ""
        return ValueError(f'Input {index} of layer "{layer_name}" is incompatible with '
                          f"the layer: {found}{received}")

    if spec.ndim is not None and rank != spec.ndim:
        raise incompatible(f"expected ndim={spec.ndim}, found ndim={rank}.")
    if spec.max_ndim is not None and rank > spec.max_ndim:
        raise incompatible(f"expected max_ndim={spec.max_ndim}, found ndim={rank}", False)
    if spec.min_ndim is not None and rank < spec.min_ndim:
        raise incompatible(f"expected min_ndim={spec.min_ndim}, found ndim={rank}.")
    if spec.dtype is not None and inputs.dtype.name != spec.dtype:
        raise incompatible(
            f"expected dtype={spec.dtype}, found dtype={inputs.dtype.name}", False)
    if spec.shape is not None:
        for expected, actual in zip(spec.shape, dims):
            if expected is not None and actual is not None and expected != actual:
                raise incompatible(f"expected shape={spec.shape}, found shape={dims}", False)
    for axis, size in spec.axes.items():
        actual = dims[axis]
        if size is not None and actual is not None and actual != size:
            raise incompatible(
                f"expected axis {axis} of input shape to have value {size}, "
                f"but received input with shape {dims}", False)


def static_dims(inputs) -> tuple | None:
    """The static shape as a tuple (None for unknown sizes), or None for an
    unknown rank. Eager tensors answer from C without building a TensorShape."""
    shape_tuple = getattr(inputs, "_shape_tuple", None)
    if shape_tuple is not None and isinstance(inputs, _EAGER_TENSOR):
        return shape_tuple()
    shape = tf.TensorShape(inputs.shape)
    return tuple(shape.as_list()) if shape.rank is not None else None


_EAGER_TENSOR = EagerTensor
