"""Recording one traced forward pass of a decorated TF1 layer.

`record(owner, args, training)` traces `owner(*args, training=training)` into
a `tf.function` graph and notes, while it runs:

* every call of a `tf1kit.layers` layer, of a built-in Keras layer and of
  the public functions the converter knows (`dynamic_rnn`, ...): the layer
  or function, its inputs and outputs, its `training` argument, where the
  user's code made the call, and the range of graph ops the call created;
* every `get_variable` request the layer's variable stores answer: its initializer,
  regularizer, constraint and trainability;
* which captured graph input is which variable;
* at each decorated call, the graph name scope it starts in and the TF1
  variable scope it runs under, so op names can be read as TF1 scopes.

The graph itself is what the rest of `convert/` reads between those calls.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import os
import sys
import traceback

import keras
import tensorflow as tf

from tf1kit.decorator import (
    add_call_observer, find_store, remove_call_observer, stores_below)
from tf1kit.layers import base as tf1_layers_base

_NOT_GIVEN = object()


@dataclasses.dataclass(eq=False)
class FunctionCall:
    """A call of a public function: what `LayerCall.layer` is for `kind="function"`."""

    name: str             # dotted public name, as registered
    function: object
    arguments: dict       # parameter -> value, defaults included
    variable_scope: str   # the TF1 variable scope it was called in


@dataclasses.dataclass(eq=False)
class LayerCall:
    """One call of a TF1 layer (`kind="tf1"`), a built-in Keras layer
    (`"keras"`) or a recorded function (`"function"`)."""

    layer: object
    kind: str
    inputs: object
    training: object
    stack: list
    start: int
    parent: LayerCall | None
    scope: str = ""
    name_scope: str = ""          # the graph name scope the call began in
    outputs: object = None
    end: int = -1
    index: int = 0

    @property
    def location(self) -> str:
        return user_location(self.stack)


@dataclasses.dataclass
class Trace:
    """What one traced call left behind."""

    graph: object                 # the FuncGraph
    inputs: list                  # its input placeholders, flat, in argument order
    outputs: object               # graph tensors, structured as the call returned them
    calls: list                   # LayerCall, in call order
    variables: dict               # captured placeholder name -> variable
    constants: dict               # captured placeholder name -> numpy value
    creations: dict               # id(variable) -> get_variable keyword arguments
    name_scopes: dict             # graph name scope -> the TF1 variable scope it ran under
    training: object              # the training argument given (or _NOT_GIVEN)
    operations: list = dataclasses.field(default_factory=list)

    def __post_init__(self):
        self.operations = self.graph.get_operations()
        self.op_index = {op.name: i for i, op in enumerate(self.operations)}


class _Recorder:
    def __init__(self):
        self.calls = []
        self.active = []
        self.graph = None
        self.scope_pairs = []  # (graph name scope, TF1 variable scope) seen together

    def op_count(self) -> int:
        return len(self.graph.get_operations()) if self.graph is not None else 0

    def begin(self, layer, kind, inputs, kwargs, stack=None):
        graph = tf.compat.v1.get_default_graph()
        if self.graph is None or graph is not self.graph:
            return None  # a call outside the traced graph (an eager warm-up)
        call = LayerCall(
            layer=layer, kind=kind, inputs=inputs,
            training=kwargs.get("training", _NOT_GIVEN),
            stack=stack if stack is not None else traceback.extract_stack()[:-3],
            start=self.op_count(), parent=self.active[-1] if self.active else None,
            index=len(self.calls), name_scope=graph.get_name_scope())
        variable_scope = tf.compat.v1.get_variable_scope().name
        if call.name_scope.rsplit("/", 1)[-1] == variable_scope.rsplit("/", 1)[-1]:
            # Only when they end alike: a name scope opened on its own (TF-Slim's
            # pooling) does not stand for the variable scope around it.
            self.scope_pairs.append((call.name_scope, variable_scope))
        if kind == "keras":
            outer = tf.compat.v1.get_variable_scope().name
            call.scope = f"{outer}/{layer.name}" if outer else layer.name
        elif kind == "function":
            call.scope = layer.variable_scope
        self.calls.append(call)
        self.active.append(call)

        def finish(outputs):
            call.outputs = outputs
            call.end = self.op_count()
            if kind == "tf1":
                call.scope = layer.scope_name
            if self.active and self.active[-1] is call:
                self.active.pop()

        return finish

    # The hook tf1kit.layers.base.Layer.__call__ calls.
    def __call__(self, layer, inputs, kwargs):
        return self.begin(layer, "tf1", inputs, kwargs)


def _wrap_keras_call(recorder, layer):
    original = layer.call

    def recorded_call(*args, **kwargs):
        inputs = args[0] if len(args) == 1 else args
        if not args:
            inputs = next(iter(kwargs.values()), None)
        finish = recorder.begin(layer, "keras", inputs, kwargs)
        outputs = original(*args, **kwargs)
        if finish is not None:
            finish(outputs)
        return outputs

    # Set on the instance, bypassing Keras' attribute tracking.
    object.__setattr__(layer, "call", recorded_call)


def _function_sites(names) -> list:
    """(module, attribute, function, registered name) for each registered
    public name that resolves (a package that is not installed is skipped)."""
    import importlib
    import sys

    sites, seen = [], set()
    for name in names:
        module_name, _, attribute = name.rpartition(".")
        owner = sys.modules.get(module_name)
        if owner is None:
            top, *rest = module_name.split(".")
            try:
                owner = importlib.import_module(top)
                for part in rest:
                    owner = getattr(owner, part)
            except (ImportError, AttributeError):
                continue  # a package that is not installed
        function = getattr(owner, attribute, None)
        if callable(function) and (id(owner), attribute) not in seen:
            seen.add((id(owner), attribute))
            sites.append((owner, attribute, function, name))
    return sites


def _recorded_function(recorder, function, name):
    """`function`, reporting each call in the traced graph to `recorder`."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return None

    def recorded(*args, **kwargs):
        try:
            bound = signature.bind(*args, **_with_arg_scope(function, kwargs))
        except TypeError:
            return function(*args, **kwargs)  # let the function raise its own error
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        record = FunctionCall(name, function, arguments,
                              tf.compat.v1.get_variable_scope().name)
        inputs = [v for v in tf.nest.flatten(list(arguments.values())) if tf.is_tensor(v)]
        finish = recorder.begin(record, "function", inputs, {},
                                stack=traceback.extract_stack()[:-1])
        outputs = function(*args, **kwargs)
        if finish is not None:
            finish(outputs)
        return outputs

    # Its name, signature and TF-Slim's `_key_op` (arg_scope accepts it) stay the function's.
    functools.update_wrapper(recorded, function)
    return recorded


def _with_arg_scope(function, kwargs) -> dict:
    """The keyword arguments a TF-Slim function really gets: those of the
    enclosing `arg_scope` under the ones given."""
    key = getattr(function, "_key_op", None)
    if key is None:
        return kwargs
    from tf_slim.ops.arg_scope import current_arg_scope

    scoped = current_arg_scope().get(key)
    return kwargs if not scoped else {**scoped, **kwargs}


def native_keras_layers(owner) -> list:
    """Built-in Keras layers below `owner` (containers and user classes are
    looked through: their ops and variables are read from the graph)."""
    if not isinstance(owner, keras.layers.Layer):
        found = []
        for store in stores_below(owner):
            for layer in store.nested_layers.values():
                found.extend(native_keras_layers(layer) if isinstance(layer, keras.layers.Layer)
                             else [])
        return found
    return [layer for layer in owner._flatten_layers(include_self=True, recursive=True)
            if is_builtin_keras_layer(layer)]


def is_builtin_keras_layer(layer) -> bool:
    module = type(layer).__module__
    return (isinstance(layer, keras.layers.Layer) and module.startswith("keras.")
            and not isinstance(layer, keras.Model))


def all_variables(owner) -> list:
    """Every variable the owner reaches: Keras weights, store variables, tf.Module variables."""
    found = []
    if isinstance(owner, keras.layers.Layer):
        found.extend(owner.weights)
    else:
        for store in stores_below(owner):
            found.extend(store.variables_by_name.values())
            for layer in store.nested_layers.values():
                found.extend(getattr(layer, "weights", []))
        found.extend(getattr(owner, "variables", []))
    unique, seen = [], set()
    for variable in found:
        if id(variable) not in seen:
            seen.add(id(variable))
            unique.append(variable)
    return unique


def handle_of(variable):
    value = getattr(variable, "value", None)
    inner = value if isinstance(value, tf.Variable) else variable
    return getattr(inner, "handle", None)


def record(owner, args, training=_NOT_GIVEN, dynamic_batch=True, functions=()) -> Trace:
    """Traces `owner(*args[, training=training])` once and returns what it saw.

    functions: dotted names of the public functions whose calls are recorded.
    """
    recorder = _Recorder()
    creations = {}
    name_scopes = []
    flat_args = tf.nest.flatten(args)

    def observe(decorated_owner, call_args, call_kwargs):
        name_scopes.append((tf.compat.v1.get_default_graph().get_name_scope(),
                            tf.compat.v1.get_variable_scope().name))

    captured = {}

    def forward(*flat):
        recorder.graph = tf.compat.v1.get_default_graph()
        structured = tf.nest.pack_sequence_as(args, list(flat))
        kwargs = {} if training is _NOT_GIVEN else {"training": training}
        outputs = owner(*structured, **kwargs)
        captured["outputs"] = outputs
        return outputs

    specs = [_spec(value, dynamic_batch) for value in flat_args]
    keras_layers = native_keras_layers(owner)
    for layer in keras_layers:
        _wrap_keras_call(recorder, layer)
    tf1_layers_base.call_recorders.append(recorder)
    add_call_observer(observe)
    patched = []
    try:
        for module, attribute, function, name in _function_sites(functions):
            recorded = _recorded_function(recorder, function, name)
            if recorded is not None:
                # Noted before it is set: an interrupt in between still restores it.
                patched.append((module, attribute, function))
                setattr(module, attribute, recorded)
        with _requests_recorded(owner, creations), _templates_kept(owner):
            concrete = tf.function(forward, autograph=False).get_concrete_function(*specs)
    finally:
        for module, attribute, original in reversed(patched):
            setattr(module, attribute, original)
        remove_call_observer(observe)
        tf1_layers_base.call_recorders.remove(recorder)
        for layer in keras_layers:
            object.__delattr__(layer, "call")
    graph = concrete.graph
    by_handle = {}
    for variable in all_variables(owner):  # shim variables first: they carry the TF1 facts
        if handle_of(variable) is not None:
            by_handle.setdefault(id(handle_of(variable)), variable)
    variables, constants = {}, {}
    for external, internal in graph.captures:
        variable = by_handle.get(id(external))
        if variable is not None:
            variables[internal.name] = variable
        elif external.dtype != tf.resource and hasattr(external, "numpy"):
            constants[internal.name] = external.numpy()
    inputs = [t for t in graph.inputs if t.name not in variables and t.name not in constants]
    inputs = inputs[:len(flat_args)]
    return Trace(graph=graph, inputs=inputs, outputs=captured["outputs"],
                 calls=recorder.calls, variables=variables, constants=constants,
                 creations=creations, name_scopes=_scope_table(name_scopes + recorder.scope_pairs),
                 training=training)


def _scope_table(pairs) -> dict:
    """Graph name scope -> TF1 variable scope, from scopes seen together.

    The two usually agree below the decorated layer's own name scope, but not
    always: re-entering a variable scope object opens a fresh name scope
    (`InceptionV1/InceptionV1/...` for the variable scope `InceptionV1`).
    Parents are paired too while their last components agree.
    """
    table = {}
    for name_scope, variable_scope in pairs:
        table.setdefault(name_scope, variable_scope)
        names, scopes = name_scope.split("/"), variable_scope.split("/") if variable_scope else []
        while names and scopes and names[-1] == scopes[-1]:
            names, scopes = names[:-1], scopes[:-1]
            if names:
                table.setdefault("/".join(names), "/".join(scopes))
    return table


def _decorated_objects(owner) -> list:
    found = [owner]
    if isinstance(owner, keras.layers.Layer):
        found = owner._flatten_layers(include_self=True, recursive=True)
    elif isinstance(owner, tf.Module):
        found = [owner, *owner.submodules]
    return found


@contextlib.contextmanager
def _requests_recorded(owner, creations):
    """Notes every get_variable request the owner's stores answer (its
    initializer, regularizer...), including requests from templates and
    TF-Slim, whose variable scopes were made outside this trace."""
    stores = []
    for candidate in _decorated_objects(owner):
        store = find_store(candidate)
        if store is not None and all(store is not s for s in stores):
            stores.append(store)
    for store in stores:
        original = store.get_variable
        signature = inspect.signature(original)

        def get_variable(*args, _original=original, _signature=signature, **kwargs):
            variable = _original(*args, **kwargs)
            bound = _signature.bind(*args, **kwargs)
            creations.setdefault(id(variable), dict(bound.arguments))
            return variable

        store.__dict__["get_variable"] = get_variable
    try:
        yield
    finally:
        for store in stores:
            store.__dict__.pop("get_variable", None)


@contextlib.contextmanager
def _templates_kept(owner):
    """`make_template` objects cache a variable-scope context manager on their
    first call; made inside this trace, it would drag the trace's graph into
    the user's later eager calls (TF's EagerTemplate does so under the
    official shim too). The cache is put back as it was."""
    from tensorflow.python.ops import template as tf_template

    saved = []
    for candidate in _decorated_objects(owner):
        for value in list(vars(candidate).values()):
            if isinstance(value, tf_template.EagerTemplate):
                saved.append((value, value.__dict__.get("_variable_scope_context_manager")))
    try:
        yield
    finally:
        for template, cached in saved:
            template._variable_scope_context_manager = cached


def _spec(value, dynamic_batch):
    tensor = tf.convert_to_tensor(value)
    shape = list(tensor.shape)
    if dynamic_batch and shape:
        shape[0] = None
    return tf.TensorSpec(shape, tensor.dtype)


# -- where in the user's code --------------------------------------------------

def _library_roots() -> tuple:
    import tensorflow
    import tf1kit

    roots = [os.path.dirname(tensorflow.__file__), os.path.dirname(keras.__file__),
             os.path.dirname(tf1kit.__file__), os.path.dirname(os.__file__)]
    try:
        import tf_slim

        slim_root = os.path.dirname(tf_slim.__file__)
        # slim's layers are library code; its nets are model code a user runs.
        roots += [os.path.join(slim_root, part) for part in ("layers", "ops", "__init__.py")]
    except ImportError:
        pass
    for name in ("absl", "tf_keras", "tensorflow_core"):
        try:
            module = __import__(name)
            roots.append(os.path.dirname(module.__file__))
        except ImportError:
            pass
    return tuple(os.path.realpath(r) for r in roots)


_ROOTS = None


def is_library_file(filename: str) -> bool:
    global _ROOTS
    if _ROOTS is None:
        _ROOTS = _library_roots()
    path = os.path.realpath(filename)
    if path.startswith(os.path.dirname(os.path.realpath(tf1_layers_base.__file__)) + os.sep):
        return True
    return any(path == root or path.startswith(root + os.sep) for root in _ROOTS)


def user_location(stack) -> str:
    """`file:line` of the innermost frame of `stack` that is the user's code."""
    frames = list(stack)
    for frame in reversed(frames):
        filename = frame.filename if hasattr(frame, "filename") else frame[0]
        lineno = frame.lineno if hasattr(frame, "lineno") else frame[1]
        if not is_library_file(filename):
            return _located(filename, lineno)
    if frames:
        last = frames[-1]
        return _located(getattr(last, "filename", last[0]), getattr(last, "lineno", last[1]))
    return "<unknown>"


def _located(filename: str, lineno: int) -> str:
    """`file:line`, or `Cell In[12], line 3` as IPython's tracebacks name a cell.

    ipykernel compiles cells under temporary file names (/tmp/ipykernel_<pid>/
    <hash>.py) that tell the reader nothing; the shell running them maps those
    names back to cells. IPython is only asked when the user already runs it.
    """
    ipython = sys.modules.get("IPython")
    shell = getattr(ipython, "get_ipython", lambda: None)() if ipython is not None else None
    format_code_name = getattr(getattr(shell, "compile", None), "format_code_name", None)
    label = None
    if format_code_name is not None:
        try:
            label = format_code_name(filename)
        except Exception:  # noqa: BLE001 - a location is a courtesy, never a failure
            label = None
    if label:
        return f"{label[0]} {label[1]}, line {lineno}"
    return f"{filename}:{lineno}"


def op_location(op) -> str:
    try:
        return user_location(op.traceback)
    except Exception:  # noqa: BLE001 - a location is a courtesy, never a failure
        return "<unknown>"
