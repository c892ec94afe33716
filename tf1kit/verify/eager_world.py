"""The eager worlds: the shim run eagerly or in `tf.function`, and the native model.

Each builds its own instance under `DeterministicRandomTestTool` (drawing
initial values), takes the starting values it is given, then runs the same
protocol as the TF1 world: a forward pass with training=False, the
regularization losses, a forward pass with training=True (and the moving
statistics it leaves), then `steps` optimizer steps from the starting
values again.
"""

from __future__ import annotations

import contextlib

import keras
import numpy as np
import tensorflow as tf

from tf1kit.testing import DeterministicRandomTestTool
from tf1kit.verify import as_written, instances, stages
from tf1kit.verify.dropout import dropout_disabled
from tf1kit.verify.inputs import flatten_outputs, output_names, positional_inputs, takes_training
from tf1kit.verify.optimizers import keras_settings


def run_eager_world(run, source, arrays, *, loss_fn, make_optimizer, steps, start_from,
                    in_function: bool):
    """Fills `run` (a WorldRun); errors end up in `run.error`, never raised."""
    with run.running(), contextlib.ExitStack() as scopes:
        rates = scopes.enter_context(dropout_disabled([]))
        scopes.enter_context(instances.collections_put_back())
        scopes.enter_context(instances.own_tf1_scope_names())
        fresh = source.can_rebuild
        if fresh:
            scopes.enter_context(instances.own_keras_names())
        scopes.enter_context(DeterministicRandomTestTool(mode="num_random_ops").scope())
        if in_function:
            scopes.enter_context(_no_retracing_warnings())
        # Functions (verify's, or the code's own) sum as the code writes, like the TF1 world.
        scopes.enter_context(as_written.functions_as_written())
        saved = None
        if fresh:
            instance = source.fresh()
        else:
            instance = source.original
            saved = scopes.enter_context(_values_put_back(instance))
            run.notes.append(
                f"{source.describe()} was used itself ({source.rebuild_problem}); its values "
                "are restored afterwards. Pass a function that builds it to let verify draw "
                "its initial values.")
        _protocol(run, instance, arrays, rates, fresh, loss_fn, make_optimizer, steps,
                  start_from, in_function, saved)


def _protocol(run, instance, arrays, rates, fresh, loss_fn, make_optimizer, steps, start_from,
              in_function, saved):
    target = instances.call_target(instance)
    args = tf.nest.map_structure(tf.constant, positional_inputs(target, arrays))
    pass_training = isinstance(instance, keras.layers.Layer) or takes_training(target)

    # The inputs go in as arguments: a tf.function closing over eager tensors
    # would hand the TF1 code EagerTensors (BERT reads `tensor.name`).
    def call(inputs, training):
        if pass_training:
            return instance(*inputs, training=training)
        return instance(*inputs)

    def maybe_function(function):
        return tf.function(function, autograph=False) if in_function else function

    forward_eval = maybe_function(lambda inputs: call(inputs, False))
    forward_train = maybe_function(lambda inputs: call(inputs, True))

    run.stage = stages.INITIAL
    forward_eval(args)
    variables = instances.owner_variables(instance)
    trainable = instances.trainable_names(instance, variables)
    run.variables = {name: {"shape": list(v.shape), "trainable": name in trainable}
                     for name, v in variables.items()}
    initial = instances.read(variables)
    if saved is not None and not saved:
        saved.update(initial)  # built here: it is left with the values it was built with
    # An object made outside verify's determinism scope drew its own way.
    if fresh:
        run.drew_initial_values = True
        run.record(stages.INITIAL, initial)
    starting = start_from(run)
    if starting is None:
        starting = initial
    instances.assign(variables, starting)
    starting = instances.read(variables)

    run.stage = stages.FORWARD_EVAL
    run.record(stages.FORWARD_EVAL, _outputs(forward_eval(args)))

    run.stage = stages.REGULARIZATION
    run.record(stages.REGULARIZATION, _regularization(instance, variables, in_function))

    run.stage = stages.FORWARD_TRAIN
    del rates[:]
    run.record(stages.FORWARD_TRAIN, _outputs(forward_train(args)))
    run.dropout_rates = list(rates)
    run.stage = stages.MOVING_STATS
    values = instances.read(variables)
    run.record(stages.MOVING_STATS,
               {name: value for name, value in values.items() if name not in trainable})

    run.stage = stages.GRADIENTS
    instances.assign(variables, starting)
    optimizer = make_optimizer()
    run.optimizer = keras_settings(optimizer)
    trainable_variables = [variables[name] for name in trainable]
    if trainable_variables:
        optimizer.build(trainable_variables)

    def train_step(inputs):
        with tf.GradientTape() as tape:
            outputs = call(inputs, True)
            total = loss_fn(outputs)
            losses = instances.losses_of(instance)
            if losses:
                total = total + tf.add_n([tf.cast(loss, total.dtype) for loss in losses])
        gradients = tape.gradient(total, trainable_variables)
        pairs = [(g, v) for g, v in zip(gradients, trainable_variables) if g is not None]
        if pairs:
            optimizer.apply_gradients(pairs)
        return total, gradients

    step = maybe_function(train_step)
    for index in range(1, steps + 1):
        run.stage = stages.step(index)
        total, gradients = step(args)
        if index == 1:
            run.record(stages.GRADIENTS, {
                name: None if g is None else np.array(tf.convert_to_tensor(g))
                for name, g in zip(trainable, gradients)})
        run.record(stages.step(index), {"loss": np.array(total), **instances.read(variables)})
    run.stage = "done"


def _outputs(outputs) -> dict:
    return {name: np.array(tf.convert_to_tensor(value))
            for name, value in zip(output_names(outputs), flatten_outputs(outputs))}


def _regularization(instance, variables, in_function) -> dict:
    regularizers = instances.regularizers_of(variables)

    def compute():
        per_variable = {name: regularizer(variables[name])
                        for name, regularizer in regularizers.items()}
        losses = instances.losses_of(instance)
        total = tf.add_n([tf.cast(loss, tf.float32) for loss in losses]) if losses else (
            tf.constant(0.0))
        return per_variable, total

    per_variable, total = tf.function(compute, autograph=False)() if in_function else compute()
    values = {f"regularization/{name}": np.array(value) for name, value in per_variable.items()
              if value is not None}
    values["regularization/total"] = np.array(total)
    return values


@contextlib.contextmanager
def _no_retracing_warnings():
    """Each verify call traces new functions on purpose; TF would warn of retracing."""
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")
    try:
        yield
    finally:
        logger.setLevel(level)


@contextlib.contextmanager
def _values_put_back(instance):
    """Leaves an object verify had to use itself with the values it had.

    Yields the saved values; an object that had none is given the values it
    was first built with.
    """
    saved = instances.read(instances.owner_variables(instance))
    try:
        yield saved
    finally:
        instances.assign(instances.owner_variables(instance), saved)
