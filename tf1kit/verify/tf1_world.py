"""The TF1 world: the forward pass as TF1 code, in a `tf.compat.v1.Graph` and `Session`.

This is the ground truth. The undecorated forward pass builds two graphs
from placeholders, as TF1 programs did: one with training=False, one with
training=True plus the regularization losses, the loss, `tf.gradients` and
a TF1 optimizer's `apply_gradients` (run with the graph's `UPDATE_OPS`, the
TF1 idiom for batch-norm statistics). The sessions run without Grappler's
arithmetic optimizer, which reorders floating-point sums (`as_written.py`).
Variables come from TensorFlow's own
graph variable store, not tf1kit's, and `tf.compat.v1.layers` / TF-Slim use
TensorFlow's own TF1 layers where tf-keras provides them (`tf1_layers.py`).

An assignment made in the forward pass that nothing runs (not in
`UPDATE_OPS`, no control dependency) never took effect in TF1: it is left
out, and the report says so, since eager code applies it. Keras 3 layers
inside the forward pass are the exception: they are native code whose
updates apply during the call, so their assignments run with the updates.
"""

from __future__ import annotations

import contextlib
import warnings

import keras
import numpy as np
import tensorflow as tf
from tensorflow.python.util import deprecation

from tf1kit.decorator.track import GRAPH_LAYERS_COLLECTION
from tf1kit.testing import DeterministicRandomTestTool
from tf1kit.verify import as_written, instances, stages, tf1_layers
from tf1kit.verify.dropout import dropout_disabled
from tf1kit.verify.inputs import (
    flatten_outputs, output_names, placeholders_for, positional_inputs, takes_training)
from tf1kit.verify.optimizers import tf1_settings

v1 = tf.compat.v1
_ASSIGN_OPS = frozenset({"AssignVariableOp", "AssignSubVariableOp", "AssignAddVariableOp",
                         "Assign", "AssignSub", "AssignAdd"})


def run_tf1_world(run, source, arrays, *, loss_fn, make_optimizer, steps):
    """Fills `run` (a WorldRun); errors end up in `run.error`, never raised."""
    with run.running(), _quiet(), tf1_layers.original_tf1_layers(), \
            dropout_disabled([]) as rates:
        run.notes.append("TF1 world: " + tf1_layers.description() + ".")
        run.stage = stages.INITIAL
        with _graph_world(source) as (graph, instance):
            built = _build_forward(instance, arrays, training=False)
            variables = _GraphVariables(instance)
            regularization = _regularization(instance, variables)
            initializer = v1.global_variables_initializer()
        trainable = variables.trainable
        run.variables = {name: {"shape": v.shape.as_list(), "trainable": name in trainable}
                         for name, v in variables.items()}
        with v1.Session(graph=graph, config=as_written.session_config()) as session:
            session.run(initializer)
            initial = _read(session, variables)
            run.drew_initial_values = True
            run.record(stages.INITIAL, initial)
            run.stage = stages.FORWARD_EVAL
            outputs, losses = session.run([built.outputs, regularization], built.feed(arrays))
            run.record(stages.FORWARD_EVAL, dict(zip(built.names, outputs)))
            run.stage = stages.REGULARIZATION
            run.record(stages.REGULARIZATION, losses)
        _train(run, source, arrays, initial, loss_fn, make_optimizer, steps, rates)
        run.stage = "done"


@contextlib.contextmanager
def _quiet():
    """TF1 layers warn that they are deprecated on every call; that is the point here."""
    printing = deprecation._PRINT_DEPRECATION_WARNINGS
    deprecation._PRINT_DEPRECATION_WARNINGS = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        deprecation._PRINT_DEPRECATION_WARNINGS = printing


class _Forward:
    def __init__(self, outputs, feed, created_ops):
        self.structure = outputs
        self.names = output_names(outputs)
        self.outputs = flatten_outputs(outputs)
        self.feed = feed
        self.created_ops = created_ops


@contextlib.contextmanager
def _graph_world(source):
    graph = tf.Graph()
    with contextlib.ExitStack() as scopes:
        scopes.enter_context(graph.as_default())
        if source.can_rebuild:
            scopes.enter_context(instances.own_keras_names())
        scopes.enter_context(DeterministicRandomTestTool(mode="num_random_ops").scope())
        yield graph, _graph_instance(source)


def _graph_instance(source):
    if source.can_rebuild:
        return source.fresh()
    instance = source.original
    if instances.has_stateful_children(instance):
        raise RuntimeError(
            f"{source.describe()} cannot be rebuilt ({source.rebuild_problem}) and holds "
            "layers or modules with state, which a TF1 graph cannot share with eager code; "
            "pass verify a function that builds it (e.g. lambda: MyLayer(...)).")
    return instance


def _build_forward(instance, arrays, training) -> _Forward:
    graph = tf.compat.v1.get_default_graph()
    forward = instances.undecorated_forward(instance)
    holders, feed = placeholders_for(arrays)
    args = positional_inputs(forward, holders)
    before = len(graph.get_operations())
    if takes_training(forward):
        outputs = forward(*args, training=training)
    else:
        outputs = forward(*args)
    return _Forward(outputs, feed, graph.get_operations()[before:])


class _GraphVariables(dict):
    """TF1 name (or Keras path) -> graph tf.Variable, in creation order.

    `keras` holds the Keras 3 variables among them (layers built in the graph),
    by the same names: their regularizers and trainability live there.
    """

    def __init__(self, instance):
        super().__init__()
        self.keras = {}
        by_handle = {}
        if isinstance(instance, keras.layers.Layer):
            by_handle = {v.handle.name: v for v in instance.weights if hasattr(v, "handle")}
        # Layers of get_or_create_layer: named as the graph names them (as the
        # shim names them), with their Keras regularizers and trainability.
        made = {v.handle.name: v for layer in _created_layers() for v in layer.weights
                if hasattr(v, "handle") and v.handle.name not in by_handle}
        graph_trainable = {id(v) for v in v1.trainable_variables()}
        self.trainable = []
        for variable in v1.global_variables():
            if not variable.dtype.is_floating:
                continue
            keras_variable = by_handle.get(variable.handle.name)
            if keras_variable is not None:
                name = instances.variable_name(keras_variable, instance.name)
                self.keras[name] = keras_variable
                trainable = keras_variable.trainable
            elif variable.handle.name in made:
                name = variable.op.name
                self.keras[name] = made[variable.handle.name]
                trainable = self.keras[name].trainable
            else:
                name = variable.op.name
                trainable = id(variable) in graph_trainable
            self[name] = variable
            if trainable:
                self.trainable.append(name)


def _regularization(instance, variables) -> dict:
    """name -> loss tensor: per variable, and the total the graph trains with."""
    collection = v1.get_collection(v1.GraphKeys.REGULARIZATION_LOSSES)
    per_variable = {}
    by_handle = {v.handle.name: name for name, v in variables.items()}
    for loss in collection:
        name = _regularized_variable(loss, by_handle)
        if name is not None:
            per_variable.setdefault(name, []).append(loss)
    for name, variable in variables.keras.items():
        regularizer = getattr(variable, "regularizer", None)
        if regularizer is not None:
            per_variable.setdefault(name, []).append(regularizer(variable))
    total = list(collection) + (list(instance.losses) if isinstance(
        instance, keras.layers.Layer) else [])
    # The shim tracks get_or_create_layer's layers, losses included (the
    # guide's `tf.add_n(layer.losses)`); TF 1.x had no such function.
    total += [loss for layer in _created_layers() for loss in layer.losses]
    losses = {f"regularization/{name}": tf.add_n(terms) for name, terms in per_variable.items()}
    losses["regularization/total"] = (tf.add_n([tf.cast(t, tf.float32) for t in total])
                                      if total else tf.constant(0.0))
    return losses


def _created_layers() -> list:
    return v1.get_collection(GRAPH_LAYERS_COLLECTION)


def _regularized_variable(loss, by_handle, limit=200):
    """The one variable a regularization loss reads, found by walking its inputs.

    Names do not tell: TF-Slim renames `kernel` to `weights` after the layer
    named the loss `.../kernel/Regularizer/...`.
    """
    found, seen, frontier = set(), set(), [loss.op]
    while frontier and len(seen) < limit:
        op = frontier.pop()
        if op.name in seen:
            continue
        seen.add(op.name)
        for tensor in op.inputs:
            if tensor.name in by_handle:
                found.add(by_handle[tensor.name])
            else:
                frontier.append(tensor.op)
    return found.pop() if len(found) == 1 else None


def _train(run, source, arrays, starting, loss_fn, make_optimizer, steps, rates):
    run.stage = stages.FORWARD_TRAIN
    with _graph_world(source) as (graph, instance):
        del rates[:]
        built = _build_forward(instance, arrays, training=True)
        run.dropout_rates = list(rates)
        variables = _GraphVariables(instance)
        missing = sorted(set(starting) - set(variables))
        if missing:
            raise RuntimeError(
                f"the training=True graph has no variable {missing[0]!r}, which the "
                "training=False graph created")
        trainable = variables.trainable
        regularization = _regularization(instance, variables)
        total = loss_fn(built.structure) + tf.cast(regularization["regularization/total"],
                                                     tf.float32)
        updates = _update_ops(run, built, variables, [*built.outputs, total])
        trainable_variables = [variables[name] for name in trainable]
        gradients = tf.gradients(total, trainable_variables)
        optimizer = make_optimizer()
        run.optimizer = tf1_settings(optimizer)
        pairs = [(g, v) for g, v in zip(gradients, trainable_variables) if g is not None]
        with tf.control_dependencies(updates):
            train_op = optimizer.apply_gradients(pairs) if pairs else tf.group(*updates)
        # An embedding lookup's gradient is IndexedSlices; its dense form is what
        # the eager world records too (the optimizer keeps the sparse update).
        dense_gradients = [None if g is None else tf.convert_to_tensor(g) for g in gradients]
        load = _loader(variables)
        initializer = v1.global_variables_initializer()
    graph.finalize()
    feed = built.feed(arrays)
    with v1.Session(graph=graph, config=as_written.session_config()) as session:
        session.run(initializer)
        load(session, starting)
        outputs, _ = session.run([built.outputs, updates], feed)
        run.record(stages.FORWARD_TRAIN, dict(zip(built.names, outputs)))
        run.stage = stages.MOVING_STATS
        values = _read(session, variables)
        run.record(stages.MOVING_STATS, {name: value for name, value in values.items()
                                         if name not in trainable})
        run.stage = stages.GRADIENTS
        load(session, starting)
        present = [g for g in dense_gradients if g is not None]
        for index in range(1, steps + 1):
            run.stage = stages.step(index)
            loss_value, gradient_values, _ = session.run([total, present, train_op], feed)
            if index == 1:
                values = iter(gradient_values)
                run.record(stages.GRADIENTS, {name: None if g is None else next(values)
                                              for name, g in zip(trainable, gradients)})
            run.record(stages.step(index), {"loss": np.asarray(loss_value),
                                            **_read(session, variables)})


def _update_ops(run, built, variables, fetched) -> list:
    """UPDATE_OPS, plus the assignments Keras 3 layers made (see module docs)."""
    updates = list(v1.get_collection(v1.GraphKeys.UPDATE_OPS))
    reached = _ancestors([*fetched, *updates])
    keras_handles = {variables[name].handle.name for name in variables.keras}
    by_handle = {v.handle.name: name for name, v in variables.items()}
    initializers = {v.initializer.name for v in v1.global_variables()}
    ignored = []
    for op in built.created_ops:
        if op.type not in _ASSIGN_OPS or op.name in reached or op.name in initializers:
            continue
        target = op.inputs[0].name if op.inputs else ""
        if target in keras_handles:
            updates.append(op)
        else:
            ignored.append(by_handle.get(target, target))
    if ignored:
        run.notes.append(
            "TF1 graph: the forward pass assigns to " + ", ".join(sorted(set(ignored)))
            + " with ops nothing runs (not in UPDATE_OPS, no control dependency), so TF1 "
            "never applied them; eager code applies them during the call.")
    return updates


def _ancestors(fetches) -> set:
    """Names of the ops a Session.run of `fetches` executes."""
    seen, frontier = set(), [getattr(f, "op", f) for f in fetches]
    while frontier:
        op = frontier.pop()
        if op.name in seen:
            continue
        seen.add(op.name)
        frontier.extend(tensor.op for tensor in op.inputs)
        frontier.extend(op.control_inputs)
    return seen


def _loader(variables):
    """Assign ops fed through placeholders (built before the graph is finalized)."""
    assigns = {}
    for name, variable in variables.items():
        value = v1.placeholder(variable.dtype.base_dtype, variable.shape)
        assigns[name] = (value, variable.assign(value))

    def load(session, values):
        chosen = {name: pair for name, pair in assigns.items() if name in values}
        session.run([op for _, op in chosen.values()],
                    {holder: values[name] for name, (holder, _) in chosen.items()})

    return load


def _read(session, variables) -> dict:
    return dict(zip(variables, session.run(list(variables.values()))))
