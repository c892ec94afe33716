"""Building the converted model and giving it the shim's weights.

The source is executed in a namespace of its own (as a user would import
it), the model is built by one call on the example inputs, and every native
weight takes the value of the TF1 variable it replaces. The weight map says
which TF1 name went where (`model/conv2d/kernel` -> `net/conv2d/kernel`).
"""

from __future__ import annotations

import linecache

import numpy as np


def execute(source: str, class_name: str) -> type:
    """Runs the generated source; returns the model class it defines."""
    filename = f"<tf1convert {class_name}>"
    # Tracebacks through the converted code then show its lines.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {"__name__": f"converted_{class_name}"}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - our own generated code
    return namespace[class_name]


def build(model_class, args):
    model = model_class()
    model(*args)
    return model


def transfer(model, assignments):
    """Copies each (shim variable, native variable getter) pair; returns the weight map."""
    weight_map = {}
    assigned = set()
    for tf1_name, source, find in assignments:
        native = find(model)
        if tuple(native.shape) != tuple(source.shape):
            raise AssertionError(
                f"to_keras: {tf1_name} has shape {tuple(source.shape)} but its native "
                f"weight {native.path} has shape {tuple(native.shape)}")
        native.assign(np.asarray(source.numpy() if hasattr(source, "numpy") else source))
        weight_map[tf1_name] = native.path
        assigned.add(id(native))
    missed = [w.path for w in model.weights
              if id(w) not in assigned and "seed_generator" not in w.path]
    if missed:
        raise AssertionError(f"to_keras: native weights with no TF1 variable: {missed}")
    paths = list(weight_map.values())
    duplicates = sorted({p for p in paths if paths.count(p) > 1})
    if duplicates:
        raise AssertionError(f"to_keras: several TF1 variables map to {duplicates}")
    return weight_map
