"""`verify` and `assert_equivalent`: one call proves a migration step numerically."""

from __future__ import annotations

import contextlib

import tensorflow as tf
from tensorflow.python.eager import context

from tf1kit.verify import as_written, names, optimizers, stages, world as worlds
from tf1kit.verify.eager_world import run_eager_world
from tf1kit.verify.inputs import as_arrays, default_loss
from tf1kit.verify.instances import Source
from tf1kit.verify.report import VerifyReport
from tf1kit.verify.rows import RowBuilder
from tf1kit.verify.tf1_world import run_tf1_world

DROPOUT_NOTE = (
    "Dropout ran disabled in every world (rates compared instead): under "
    "DeterministicRandomTestTool a TF1 graph and eager shim code draw the same mask on the "
    "first training call only, and Keras 3's Dropout draws from its own seed generator.")


def verify(layer, inputs, native=None, name_map=None, steps=3, loss=None, optimizer="sgd",
           rtol=1e-5, atol=1e-5) -> VerifyReport:
    """Runs a migrated layer as TF1 code, as the shim and as its native rewrite, and compares.

    Each world builds its own copy of the layer under `DeterministicRandomTestTool`:
    the forward pass as TF1 code in a `tf.compat.v1.Graph` + `Session` (the ground
    truth, trained with a TF1 optimizer), the shim eagerly and inside `tf.function`,
    and, when given, the native Keras 3 rewrite, which starts from the TF1 values
    copied by name. Compared, per variable and tensor: initial values, outputs with
    training False and True, regularization losses, gradients, batch-norm moving
    statistics and the variables after each of `steps` optimizer steps.

    Args:
        layer: the migrated TF1 code: a layer, model or tf.Module whose method is
            decorated with `track_tf1_style_variables`, a `%%tf1layer` instance, or a
            function returning a new one (for classes `get_config` cannot rebuild).
        inputs: one batch, a tensor, tuple or dict, as the layer takes it.
        native: optional native Keras 3 rewrite (or a function returning one). A
            compiled `keras.Model` trains with a copy of its own optimizer.
        name_map: TF1 name -> native variable name (a dict or a function); unmapped
            names are paired by scope path and shape, and the pairing is reported.
        steps: optimizer steps to compare.
        loss: `callable(outputs) -> scalar`; default: mean of squares of the outputs.
        optimizer: "sgd", "adam" or a (TF1 optimizer factory, Keras 3 optimizer
            factory) pair; see `tf1kit.verify.optimizers`.
        rtol, atol: a value passes when |value - tf1| <= atol + rtol * |tf1|.
            The graph worlds run without Grappler's arithmetic optimizer, so
            every world adds floating-point terms in the order the code writes
            them (see `tf1kit.verify.as_written`).

    Returns:
        A `VerifyReport` (`ok`, `failures`, `rows`, `not_compared`, `to_json()`).
        A world that fails is reported with its error, not raised.

    Example:

    ```python
    report = tf1kit.verify(step2, x, native=step3)
    report.ok, report.failures[:3]
    ```
    """
    steps = _check_arguments(steps, loss, rtol, atol, name_map)
    arrays = as_arrays(inputs)
    pair = optimizers.resolve(optimizer)
    layer_source = Source(layer, "layer")
    native_source = Source(native, "native") if native is not None else None
    with _global_seed_put_back():
        return _verify(layer_source, native_source, arrays, name_map, steps, loss, pair,
                       rtol, atol)


def _verify(layer_source, native_source, arrays, name_map, steps, loss, pair, rtol, atol):
    loss_fn = loss if loss is not None else default_loss
    common = {"loss_fn": loss_fn, "steps": steps}

    tf1 = worlds.WorldRun(worlds.TF1_GRAPH)
    run_tf1_world(tf1, layer_source, arrays, make_optimizer=pair.make_tf1, **common)
    # Every world starts from the TF1 world's initial values, once it drew them.
    start = {"values": tf1.values.get(stages.INITIAL)}

    def same_names(run):
        return start["values"]

    shim_eager = worlds.WorldRun(worlds.SHIM_EAGER)
    run_eager_world(shim_eager, layer_source, arrays, make_optimizer=pair.make_keras,
                    start_from=same_names, in_function=False, **common)
    reference = tf1
    if start["values"] is None and shim_eager.ran:
        reference = shim_eager  # compare the remaining worlds with each other at least
        start["values"] = shim_eager.values.get(stages.INITIAL)
    shim_function = worlds.WorldRun(worlds.SHIM_FUNCTION)
    run_eager_world(shim_function, layer_source, arrays, make_optimizer=pair.make_keras,
                    start_from=same_names, in_function=True, **common)
    runs = [tf1, shim_eager, shim_function]

    matching = {}
    if native_source is not None:
        native_run = worlds.WorldRun(worlds.NATIVE)
        make_native_optimizer = (optimizers.compiled_optimizer_factory(native_source.original)
                                 or pair.make_keras)

        def paired_by_name(run):
            matching["result"] = names.match(
                reference.variables, run.variables, name_map,
                getattr(native_source.original, "name", ""))
            values = start["values"] or {}
            pairs = matching["result"][0]
            return {native: values[tf1_name] for tf1_name, native in pairs.items()
                    if tf1_name in values
                    and list(values[tf1_name].shape) == list(run.variables[native]["shape"])}

        run_eager_world(native_run, native_source, arrays, make_optimizer=make_native_optimizer,
                        start_from=paired_by_name, in_function=False, **common)
        if make_native_optimizer is not pair.make_keras:
            native_run.notes.append(
                "native: trains with a copy of the compiled model's own optimizer.")
        runs.append(native_run)
    return _assemble(reference, runs, matching, layer_source, native_source, pair, loss,
                     steps, rtol, atol)


def assert_equivalent(layer, inputs, native=None, name_map=None, steps=3, loss=None,
                      optimizer="sgd", rtol=1e-5, atol=1e-5) -> VerifyReport:
    """`verify`, raising AssertionError with the worst failures unless the report is ok."""
    report = verify(layer, inputs, native=native, name_map=name_map, steps=steps, loss=loss,
                    optimizer=optimizer, rtol=rtol, atol=atol)
    if not report.ok:
        raise AssertionError(f"{report.summary()}\n{report.describe_failures()}")
    return report


@contextlib.contextmanager
def _global_seed_put_back():
    """The determinism tool sets TensorFlow's global seed; the user's comes back after."""
    seed = context.global_seed()
    try:
        yield
    finally:
        tf.random.set_seed(seed)


def _check_arguments(steps, loss, rtol, atol, name_map) -> int:
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"tf1kit.verify: steps must be a whole number >= 0, got {steps!r}.")
    if loss is not None and not callable(loss):
        raise TypeError(f"tf1kit.verify: loss must be callable(outputs) -> scalar, got "
                        f"{type(loss).__name__}.")
    for label, value in (("rtol", rtol), ("atol", atol)):
        if not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"tf1kit.verify: {label} must be a number >= 0, got {value!r}.")
    if name_map is not None and not (callable(name_map) or hasattr(name_map, "items")):
        raise TypeError("tf1kit.verify: name_map must be a dict (TF1 name -> native name) "
                        f"or a function, got {type(name_map).__name__}.")
    return steps


def _assemble(reference, runs, matching, layer_source, native_source, pair, loss, steps,
              rtol, atol) -> VerifyReport:
    builder = RowBuilder(reference, rtol, atol)
    for run in runs:
        if run is reference or not reference.values or (not run.ran and not run.values):
            continue
        if run.name == worlds.NATIVE and "result" in matching:
            pairs, _, problems = matching["result"]
            builder.compare_world(run, pairs, problems)
        else:
            builder.compare_world(run)
    not_compared = [{"what": f"world {run.name}", "world": run.name,
                     "why": f"failed at stage {run.stage}: {run.error}"}
                    for run in runs if not run.ran]
    not_compared += builder.not_compared
    notes = [note for run in runs for note in run.notes]
    if reference is not runs[0]:
        notes.insert(0, "The TF1 world did not run: the other worlds are compared with "
                        "shim_eager instead of the ground truth.")
    if any(run.dropout_rates for run in runs):
        notes.append(DROPOUT_NOTE)
        not_compared.append({"what": "dropout masks", "world": "all",
                             "why": "masks differ between worlds; dropout ran disabled and "
                                    "its rates were compared"})
    settings = {
        "layer": layer_source.describe(),
        "native": native_source.describe() if native_source is not None else None,
        "steps": steps, "rtol": rtol, "atol": atol, "optimizer": pair.label,
        "loss": "mean of squares of the outputs" if loss is None else getattr(
            loss, "__qualname__", type(loss).__name__),
        "reference": reference.name,
        "graph_rewrites": as_written.SETTING,
    }
    world_data = {run.name: {
        "description": worlds.DESCRIPTIONS[run.name], "ran": run.ran, "error": run.error,
        "failed_stage": None if run.ran else run.stage,
        "drew_initial_values": run.drew_initial_values, "optimizer": run.optimizer,
        "variables": len(run.variables),
    } for run in runs}
    return VerifyReport(
        rows=builder.rows, not_compared=not_compared, worlds=world_data,
        name_matches=matching["result"][1] if "result" in matching else [],
        notes=list(dict.fromkeys(notes)), settings=settings,
        timings={run.name: run.seconds for run in runs},
        tracebacks={run.name: run.error_traceback for run in runs if not run.ran})
