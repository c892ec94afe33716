"""The batch `verify` feeds to every world, and how each world is called.

A batch is a tensor, a tuple (or list) or a dict, given as the layer takes
it. A tuple goes to the layer as separate positional inputs when its forward
pass takes several (a `%%tf1layer --inputs "x, y"` or `call(self, x, y)`),
and as one structured input otherwise.
"""

from __future__ import annotations

import inspect

import numpy as np
import tensorflow as tf

_NOT_INPUTS = ("self", "training", "mask")


def as_arrays(inputs):
    """The batch as numpy arrays (the same structure), so no world shares tensors."""
    try:
        arrays = tf.nest.map_structure(lambda value: np.asarray(value), inputs)
    except Exception as error:  # noqa: BLE001 - any leaf numpy cannot take
        raise TypeError(
            "tf1kit.verify: inputs must be a tensor, array, tuple or dict of them; "
            f"got {type(inputs).__name__} ({error}).") from None
    for path, array in zip(_paths(arrays), tf.nest.flatten(arrays)):
        if array.dtype.kind not in "biufc":
            where = f" at {path!r}" if path else ""
            raise TypeError(
                f"tf1kit.verify: inputs{where} must hold numbers; got a {array.dtype} array "
                f"from {type(array.flat[0]).__name__ if array.size else 'nothing'}.")
    return arrays


def positional_inputs(forward, inputs) -> tuple:
    """The positional arguments a call of `forward` takes for this batch."""
    if isinstance(inputs, (tuple, list)) and _input_count(forward) > 1:
        return tuple(inputs)
    return (inputs,)


def _input_count(forward) -> int:
    definition = getattr(forward, "_tf1kit_definition", None)
    if definition is not None:  # a %%tf1layer class: its --inputs
        return len(definition.input_names)
    try:
        parameters = list(inspect.signature(forward).parameters.values())
    except (TypeError, ValueError):
        return 1
    count = 0
    for parameter in parameters:
        if parameter.kind == inspect.Parameter.VAR_POSITIONAL:
            return 2
        if (parameter.kind in (inspect.Parameter.POSITIONAL_ONLY,
                               inspect.Parameter.POSITIONAL_OR_KEYWORD)
                and parameter.name not in _NOT_INPUTS):
            count += 1
    return count


def takes_training(function) -> bool:
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.name == "training" or p.kind == inspect.Parameter.VAR_KEYWORD
               for p in parameters)


def placeholders_for(arrays):
    """TF1 placeholders shaped like the batch, and a function making the feed dict."""
    holders = tf.nest.map_structure(
        lambda array: tf.compat.v1.placeholder(tf.as_dtype(array.dtype), array.shape), arrays)

    def feed(values):
        return dict(zip(tf.nest.flatten(holders), tf.nest.flatten(values)))

    return holders, feed


def output_names(outputs) -> list[str]:
    """'output' for one tensor, 'output/<path>' for each tensor of a structure."""
    if tf.is_tensor(outputs) or isinstance(outputs, np.ndarray) or hasattr(outputs, "dtype"):
        return ["output"]
    return [f"output/{path}" for path in _paths(outputs)]


def _paths(structure, prefix=""):
    """Joined paths of the leaves, in tf.nest.flatten's order (dict keys sorted)."""
    if isinstance(structure, dict):
        items = [(key, structure[key]) for key in sorted(structure)]
    elif isinstance(structure, (list, tuple)):
        items = list(enumerate(structure))
    else:
        return [prefix]
    paths = []
    for key, value in items:
        paths.extend(_paths(value, f"{prefix}/{key}" if prefix else str(key)))
    return paths


def flatten_outputs(outputs) -> list:
    if tf.is_tensor(outputs) or isinstance(outputs, np.ndarray) or hasattr(outputs, "dtype"):
        return [outputs]
    return tf.nest.flatten(outputs)


def default_loss(outputs):
    """Mean of squares of the outputs (summed over the outputs of a structure)."""
    terms = [tf.reduce_mean(tf.square(tf.cast(output, tf.float32)))
             for output in flatten_outputs(outputs) if _is_float(output)]
    if not terms:
        raise TypeError("tf1kit.verify: the layer returned no floating-point output to "
                        "train on; pass loss=callable(outputs) -> scalar.")
    return tf.add_n(terms)


def _is_float(value) -> bool:
    return tf.as_dtype(value.dtype).is_floating
