"""`to_keras(layer, inputs)`: a shimmed TF1 forward pass as native Keras 3 code.

Records one traced call (two, with training=True and False, when the layer
takes `training`), reads which parts are layers and which are ops between
them, groups them by TF1 scope, writes the classes, runs them and copies
the shim's weights in.
"""

from __future__ import annotations

import inspect
import keyword
import re

import keras
import tensorflow as tf

from tf1kit.convert import patterns
from tf1kit.convert.codegen import Writer, camel
from tf1kit.convert.graph import analyze, tf1_name
from tf1kit.convert.ir import TRAINING, TensorRef, Unsupported
from tf1kit.convert.ops import Expr
from tf1kit.convert.recording import all_variables, record
from tf1kit.convert.result import ConversionResult
from tf1kit.convert.structure import (
    build_tree, collapse_root, connect, find_loops, identifier, order_items)
from tf1kit.convert.weights import build, execute, transfer


def to_keras(layer, inputs) -> ConversionResult:
    """Converts a decorated TF1 layer into native Keras 3 source, a model and a weight map.

    Args:
        layer: a Keras layer/model or `tf.Module` whose forward pass is
            decorated with `track_tf1_style_variables` (or a `%%tf1layer`
            instance), called at least once or callable on `inputs`.
        inputs: one example batch: a tensor (or array), or a tuple of them
            for a call that takes several positional inputs.

    Returns:
        A `ConversionResult`: `.source`, `.model`, `.weight_map`,
        `.unsupported`, `.report`, `.save_weights(path)`.

    Example:

    ```python
    result = tf1kit.to_keras(net, images)
    print(result.source)
    result.model(images)          # the same numbers as net(images)
    ```
    """
    patterns.load()
    args = tuple(inputs) if isinstance(inputs, tuple) else (inputs,)
    args = tuple(tf.nest.map_structure(tf.convert_to_tensor, a) for a in args)
    takes_training = _takes_training(layer)
    if not all_variables(layer):
        layer(*args)  # TF1 code creates its variables on the first call
    traces = _trace(layer, args, takes_training)
    main, other = traces
    creations = dict(other.creations) if other is not None else {}
    creations.update(main.creations)
    owner_name = getattr(layer, "name", "") or ""
    context = patterns.Context(creations, [], owner_name)
    forward = analyze(main, other, context)
    class_name = _class_name(layer)
    tree = build_tree(forward)
    top = collapse_root(tree)
    top_name = top.name or _snake(class_name)
    order_items(top)
    output_keys = {r.key for r in forward.outputs if isinstance(r, TensorRef)}
    training_nodes = {id(n) for n in forward.nodes if n.call_kwargs.get("training") is TRAINING}
    connect(top, output_keys, training_nodes)
    find_loops(top)
    params = _call_params(layer, args)
    input_exprs = _input_exprs(main, args, params)
    writer = Writer(top, forward, class_name=class_name, package=class_name,
                    call_params=params, input_exprs=input_exprs, top_name=top_name,
                    creation_rank=_creation_rank(main, other), shape_of=_shapes(main.graph))
    writer.takes_training = takes_training
    writer.input_dtypes = _input_dtypes(args)
    source = writer.write()
    unsupported = list(forward.unsupported)
    for culprit, reason in writer.unsupported:
        unsupported.append(Unsupported(getattr(culprit, "op_type", "") or "layer", reason,
                                       culprit.location))
    model, weight_map = None, {}
    if not unsupported:
        model_class = execute(source, class_name)
        model = build(model_class, args)
        weight_map = transfer(
            model, writer.weight_assignments(lambda v: tf1_name(v, owner_name)))
    return ConversionResult(source=source, model=model, weight_map=weight_map,
                            unsupported=unsupported,
                            notes=list(dict.fromkeys(context.notes + writer.notes)),
                            class_name=class_name, _layer=layer, _inputs=inputs,
                            _tf1_named={tf1_name(v, owner_name) for v in all_variables(layer)
                                        if id(v) in creations})


def _trace(layer, args, takes_training):
    functions = tuple(patterns.FUNCTION_CONVERTERS)

    def both(dynamic_batch):
        if not takes_training:
            return record(layer, args, dynamic_batch=dynamic_batch, functions=functions), None
        return (record(layer, args, True, dynamic_batch=dynamic_batch, functions=functions),
                record(layer, args, False, dynamic_batch=dynamic_batch, functions=functions))

    try:
        return both(dynamic_batch=True)
    except Exception as error:  # noqa: BLE001 - TF1 code may need a static batch size
        try:
            return both(dynamic_batch=False)
        except Exception:  # noqa: BLE001 - the first error is the one to show
            raise error from None


def _creation_rank(main, other) -> dict:
    """id(shim variable) -> its place in TF1's creation order.

    `get_variable` requests come in the order TF1 made the variables; a
    variable no store answered for (a Keras layer's own weight) takes its
    place where the trace first read it.
    """
    requested = list(main.creations)
    if other is not None:
        requested += [key for key in other.creations if key not in main.creations]
    order, placed, position = [], set(), 0
    for variable in list(main.variables.values()) + (
            list(other.variables.values()) if other is not None else []):
        key = id(variable)
        if key in placed:
            continue
        if key in main.creations or (other is not None and key in other.creations):
            while position < len(requested) and key not in placed:
                if requested[position] not in placed:
                    placed.add(requested[position])
                    order.append(requested[position])
                position += 1
        else:
            placed.add(key)
            order.append(key)
    order += [key for key in requested if key not in placed]
    return {key: rank for rank, key in enumerate(order)}


def _shapes(graph):
    """Graph tensor key -> its recorded shape (None where the batch is dynamic)."""
    def shape_of(key):
        shape = graph.get_tensor_by_name(key).shape
        if shape.rank is None:
            raise ValueError(f"{key} has no static rank")
        return tuple(shape.as_list())

    return shape_of


def _call_function(layer):
    if isinstance(layer, keras.layers.Layer):
        return layer.call
    return layer.__call__


def _takes_training(layer) -> bool:
    try:
        parameters = inspect.signature(_call_function(layer)).parameters
    except (TypeError, ValueError):
        return False
    return "training" in parameters


def _input_dtypes(args):
    """The dtype of each input of a one-argument call (a tensor, or a dict of
    them); else None."""
    if len(args) != 1:
        return None
    value = args[0]
    if isinstance(value, dict) and all(tf.is_tensor(v) for v in value.values()):
        dtypes = {key: v.dtype for key, v in value.items()}
    elif tf.is_tensor(value):
        dtypes = value.dtype
    else:
        return None
    return dtypes


def _call_params(layer, args) -> list:
    definition = getattr(type(layer), "_tf1kit_definition", None)
    names = list(getattr(definition, "input_names", []) or [])
    if not names:
        try:
            parameters = inspect.signature(_call_function(layer)).parameters.values()
            names = [p.name for p in parameters
                     if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                     and p.name not in ("self", "training", "mask")]
        except (TypeError, ValueError):
            names = []
    names = [n if n.isidentifier() and not keyword.iskeyword(n) else identifier(n)
             for n in names[:len(args)]]
    while len(names) < len(args):
        names.append(f"inputs_{len(names) + 1}")
    return names


def _input_exprs(trace, args, params) -> dict:
    """Graph input name -> the source that reads it from the call's arguments."""
    exprs = []
    for arg, param in zip(args, params):
        for path in _paths(arg):
            exprs.append(Expr(param + "".join(f"[{p!r}]" for p in path)))
    return {t.name: e for t, e in zip(trace.inputs, exprs)}


def _paths(structure, prefix=()):
    if isinstance(structure, dict):
        for key in sorted(structure):
            yield from _paths(structure[key], prefix + (key,))
    elif isinstance(structure, (list, tuple)):
        for index, value in enumerate(structure):
            yield from _paths(value, prefix + (index,))
    else:
        yield prefix


def _class_name(layer) -> str:
    name = type(layer).__name__
    return name if name.isidentifier() else camel(name)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", name).lower()


__all__ = ["to_keras"]
