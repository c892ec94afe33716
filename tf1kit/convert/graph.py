"""Reading a recorded trace: which ops are layers, which are the glue between them.

Converted layer calls are opaque: every op created while one ran belongs to
it. The other ops that the outputs depend on (the glue: adds, activations,
reshapes, concatenations...) are written one by one, except where raw
`get_variable` weights form a layer pattern. Ops that change state without
feeding the outputs (a variable update written by hand, an assert) and ops
with no translation are reported with the user's source line.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tf1kit.convert import patterns
from tf1kit.convert.ir import (
    TRAINING, ConstRef, ExprSpec, Forward, LayerInstance, Node, RawVariable, TensorRef,
    Unsupported, VariableRef)
from tf1kit.convert.ops import EMITTERS, HARMLESS_UNUSED
from tf1kit.convert.recording import _NOT_GIVEN, op_location
from tf1kit.convert.values import (
    NotConvertible, constraint_code, initializer_or_note, regularizer_code)
from tf1kit.verify.instances import variable_name

_LARGEST_CONSTANT = 256  # values written inline; bigger constants are reported
# Weight names that say nothing of their layer (it is named after their scope).
_GENERIC_WEIGHTS = {"kernel", "weights", "w", "W", "bias", "biases", "b", "depthwise_kernel",
                    "depthwise_weights", "pointwise_kernel", "pointwise_weights", "embeddings"}
_RANDOM_OPS = ("RandomUniform", "RandomStandardNormal", "TruncatedNormal", "RandomUniformInt",
               "RandomShuffle", "Multinomial", "RandomGamma", "RandomPoisson")


def tf1_name(variable, owner_name: str = "") -> str:
    """A variable's TF1 name; for a Keras variable, its path below the owner
    (`conv2d/kernel` in a layer named `net`): verify's naming, so the weight
    map and verify's report pair the same names."""
    return variable_name(variable, owner_name)


def _dirname(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


class _Analysis:
    def __init__(self, trace, other, context):
        self.trace = trace
        self.other = other
        self.context = context
        self.unsupported = []
        self.ops = trace.operations
        self.inputs = {t.name: i for i, t in enumerate(trace.inputs)}

    # -- layer calls ---------------------------------------------------------
    def training_bindings(self):
        """Per call: how its `training` argument follows the model's."""
        calls = self.trace.calls
        if self.other is None:
            return [None if c.training is _NOT_GIVEN else c.training for c in calls], True
        pairs, first = _align(calls, self.other.calls)
        if pairs is None:
            self.unsupported.append(Unsupported(
                "the forward pass", "it calls different layers for training=True and "
                "training=False (a Python branch on `training`)",
                first.location if first is not None else "<unknown>"))
            return [None] * len(calls), False
        bindings = []
        for when_training, when_not in pairs:
            when_training.paired = when_not
            if when_not is None:  # dropout that the TF1 code runs only when training
                bindings.append(TRAINING)
                continue
            a, b = when_training.training, when_not.training
            if a is _NOT_GIVEN and b is _NOT_GIVEN:
                bindings.append(None)
            elif _is_flag(a) and _is_flag(b) and bool(a) and not bool(b):
                bindings.append(TRAINING)
            elif _is_flag(a) and _is_flag(b) and bool(a) == bool(b):
                bindings.append(bool(a))
            elif a is None and b is None:
                bindings.append(None)
            else:
                bindings.append(_NOT_CONVERTIBLE)
        return bindings, True

    def convert_calls(self):
        bindings, aligned = self.training_bindings()
        self.specs = {}
        for call, binding in zip(self.trace.calls, bindings):
            call.binding = binding
            if call.kind == "function":
                call.variables_read = self._variables_read(call)
            if binding is _NOT_CONVERTIBLE:
                call.failure = "its `training` argument is a tensor, not the model's flag"
                continue
            converter = patterns.converter_for(call)
            if converter is None:
                call.failure = None  # a user class: read through
                continue
            try:
                spec = converter(call, self.context)
            except NotConvertible as error:
                if not getattr(converter, "opaque", False):
                    call.failure = str(error)
                    continue
                spec = _unconvertible(call, str(error))
            self.specs[call] = spec
            call.failure = None
            if getattr(spec, "training", None) is not None:
                call.binding = spec.training

    def _variables_read(self, call) -> list:
        """The variables the ops of a call read (or capture into a loop), in order."""
        found, seen = [], set()
        for op in self.ops[call.start:max(call.end, call.start)]:
            for tensor in op.inputs:
                variable = self.trace.variables.get(tensor.name)
                if variable is not None and id(variable) not in seen:
                    seen.add(id(variable))
                    found.append(variable)
        return found

    def opaque_regions(self):
        """Outermost converted calls, and which of them owns each op."""
        self.owner = [None] * len(self.ops)
        self.opaque = []
        for call in self.trace.calls:
            if call not in self.specs or call.end < 0:
                continue
            parent, nested = call.parent, False
            while parent is not None:
                if parent in self.specs:
                    nested = True
                    break
                parent = parent.parent
            if nested:
                continue
            self.opaque.append(call)
            for i in range(call.start, call.end):
                self.owner[i] = call
        self.call_outputs = {}
        for call in self.opaque:
            for position, tensor in enumerate(tf.nest.flatten(call.outputs)):
                if tf.is_tensor(tensor) and self._index(tensor.op) >= call.start:
                    self.call_outputs[tensor.name] = (call, position)
        for call in self.trace.calls:
            failure = getattr(call, "failure", None)
            if failure:
                self.context.notes.append(
                    f"{call.location}: {type(call.layer).__name__} "
                    f"{call.scope!r} was written op by op: {failure}")

    def _index(self, op) -> int:
        return self.trace.op_index.get(op.name, -1)

    # -- walking back from the outputs -------------------------------------
    def source(self, tensor):
        """What a tensor is: ("input", i), ("call", call, position),
        ("var", variable), ("const", value), ("op", op) or ("internal", call)."""
        while True:
            if tensor.name in self.inputs:
                return ("input", self.inputs[tensor.name])
            if tensor.name in self.call_outputs:
                return ("call",) + self.call_outputs[tensor.name]
            op = tensor.op
            index = self._index(op)
            if index >= 0 and self.owner[index] is not None:
                return ("internal", self.owner[index])
            if op.type == "Identity":
                tensor = op.inputs[0]
                continue
            if op.type == "Placeholder":
                if tensor.name in self.trace.variables:
                    return ("var", self.trace.variables[tensor.name])
                if tensor.name in self.trace.constants:
                    return ("const", self.trace.constants[tensor.name])
                return ("unknown", tensor)
            if op.type == "ReadVariableOp":
                handle = op.inputs[0]
                while handle.op.type == "Identity":
                    handle = handle.op.inputs[0]
                if handle.name in self.trace.variables:
                    return ("var", self.trace.variables[handle.name])
                return ("unknown", handle)
            if op.type == "Const":
                return ("const", tf.get_static_value(tensor))
            return ("op", op)

    def walk(self):
        """Marks what the outputs depend on and counts each value's consumers."""
        self.live_ops, self.live_calls = set(), set()
        self.consumers = {}
        self.variable_reads = {}
        self.flat_outputs = tf.nest.flatten(self.trace.outputs, expand_composites=False)
        stack = []
        for tensor in self.flat_outputs:
            if tf.is_tensor(tensor):
                self._consume(tensor, None)
                stack.append(tensor)
        seen = set()
        while stack:
            kind = self.source(stack.pop())
            if kind[0] == "op":
                op = kind[1]
                if op.name in seen:
                    continue
                seen.add(op.name)
                self.live_ops.add(op.name)
                for input_tensor in op.inputs:
                    self._consume(input_tensor, op_location(op))
                    stack.append(input_tensor)
            elif kind[0] == "call":
                call = kind[1]
                if call in self.live_calls:
                    continue
                self.live_calls.add(call)
                for input_tensor in tf.nest.flatten(self.step_inputs(call)):
                    if tf.is_tensor(input_tensor):
                        self._consume(input_tensor, call.location)
                        stack.append(input_tensor)

    def step_inputs(self, call):
        """What a converted call takes: its recorded inputs, unless its spec says."""
        given = getattr(self.specs.get(call), "inputs", None)
        return call.inputs if given is None else given

    def _consume(self, tensor, location):
        """Counts one use of `tensor`; `location` is the user's line that used it."""
        kind = self.source(tensor)
        if kind[0] in ("op", "call", "input"):
            key = self._key(tensor, kind)
            self.consumers[key] = self.consumers.get(key, 0) + 1
        elif kind[0] == "var":
            self.variable_reads[id(kind[1])] = self.variable_reads.get(id(kind[1]), 0) + 1
        elif kind[0] == "internal":
            call = kind[1]
            self.unsupported.append(Unsupported(
                f"a tensor inside {type(call.layer).__name__} {call.scope!r}",
                "the code uses a value the layer computes internally, which the Keras "
                "layer does not expose", location or op_location(tensor.op)))
        elif kind[0] == "unknown":
            self.unsupported.append(Unsupported(
                f"the captured value {tensor.name}",
                "the forward pass reads a variable or tensor that the layer does not "
                "track (a tf.Variable kept outside Keras' tracking, or a global)",
                location or op_location(tensor.op)))

    def _key(self, tensor, kind=None):
        """The name of the tensor a value really is (identities looked through)."""
        kind = kind or self.source(tensor)
        while tensor.op.type == "Identity" and tensor.name not in self.inputs \
                and tensor.name not in self.call_outputs:
            tensor = tensor.op.inputs[0]
        return tensor.name

    # -- building nodes ----------------------------------------------------
    def build(self):
        self.instances = []
        self.layer_weights = {}   # id(variable) -> (instance, attribute)
        self.instance_of_call = {}
        self.raw = {}
        nodes = []
        for call in sorted(self.live_calls, key=lambda c: c.start):
            if isinstance(self.specs[call], ExprSpec):
                nodes.append(self._expression_node(call, self.specs[call]))
                continue
            instance = self._instance_for(call)
            if instance is None:
                continue
            nodes.append(self._call_node(call, instance))
        self._select_outputs(nodes)
        self.matched_ops = set()
        nodes.extend(self._match_patterns())
        for op in self.ops:
            if op.name in self.live_ops and op.name not in self.matched_ops:
                nodes.append(self._op_node(op))
        nodes.extend(self._side_effects())
        nodes.sort(key=lambda n: n.order)
        return nodes

    def _instance_for(self, call):
        """One Keras layer per TF1 layer; calls that share variables share it."""
        spec = self.specs[call]
        variables = tuple(sorted(id(v) for v in spec.weights.values() if v is not None))
        key = variables or ("object", id(call.layer))
        existing = self.instance_of_call.get(key)
        if existing is not None:
            if existing.spec.class_name != spec.class_name or existing.spec.args != spec.args:
                self.unsupported.append(Unsupported(
                    f"{type(call.layer).__name__} {call.scope!r}",
                    "it shares its variables with another layer of a different "
                    "configuration", call.location))
                return None
            return existing
        instance = LayerInstance(spec, spec.scope or self.call_scope(call), call.location)
        self.instance_of_call[key] = instance
        self.instances.append(instance)
        for attribute, variable in spec.weights.items():
            if variable is not None:
                self.layer_weights[id(variable)] = (instance, attribute)
        return instance

    def _call_node(self, call, instance):
        inputs = self.step_inputs(call)
        if isinstance(inputs, (list, tuple)) and len(inputs) == 1:
            inputs = inputs[0]  # a function's one input: the layer takes it as it is
        refs = [self._ref(t) for t in tf.nest.flatten(inputs)]
        structure = tf.nest.map_structure(lambda _: None, inputs)
        outputs = [t.name if tf.is_tensor(t) else None for t in tf.nest.flatten(call.outputs)]
        kwargs = {}
        if call.binding is not None:
            kwargs["training"] = call.binding
        node = Node(inputs=refs, outputs=outputs, order=call.start,
                    scope=_dirname(instance.scope), location=call.location, instance=instance,
                    call_kwargs=kwargs, output_structure=call.outputs, origin=call)
        node.input_structure = structure
        return node

    def _expression_node(self, call, spec):
        """A recorded function written as one expression: an op-like step."""
        outputs = [t.name if tf.is_tensor(t) else None for t in tf.nest.flatten(call.outputs)]
        return Node(inputs=[self._ref(t) for t in spec.inputs], outputs=outputs,
                    order=call.start, scope=call.scope, location=call.location,
                    op_type=spec.label, emit=spec.emit, origin=call)

    def _select_outputs(self, nodes):
        """Tells each layer that asks which of its call's outputs the model uses;
        when it then returns fewer, its calls produce just those."""
        used, calls = {}, {}
        for node in nodes:
            spec = node.instance.spec if node.is_call else None
            if spec is None or spec.select_outputs is None:
                continue
            flags = [bool(key) and self.consumers.get(key, 0) > 0 for key in node.outputs]
            previous = used.get(id(spec), (spec, [False] * len(flags)))[1]
            used[id(spec)] = (spec, [a or b for a, b in zip(previous, flags)])
            calls.setdefault(id(spec), []).append(node)
        for key, (spec, flags) in used.items():
            returned = spec.select_outputs(flags)
            if returned is None:
                continue
            for node in calls[key]:
                flat = tf.nest.flatten(node.output_structure)
                node.outputs = [node.outputs[i] for i in returned]
                kept = [flat[i] for i in returned]
                node.output_structure = kept[0] if len(kept) == 1 else kept

    def _ref(self, tensor):
        if not tf.is_tensor(tensor):
            return ConstRef(np.asarray(tensor))
        kind = self.source(tensor)
        if kind[0] == "var":
            return VariableRef(self._variable(kind[1]))
        if kind[0] == "const":
            return ConstRef(kind[1])
        return TensorRef(self._key(tensor, kind))

    def _variable(self, variable):
        owned = self.layer_weights.get(id(variable))
        if owned is not None:
            return owned
        return self.raw.get(id(variable)) or self._raw_variable(variable)

    def _raw_variable(self, variable):
        created = self.context.created(variable)
        name = tf1_name(variable, self.context.owner_name)
        notes = self.context.notes
        try:
            regularizer = regularizer_code(getattr(variable, "regularizer", None))
        except NotConvertible as error:
            self.unsupported.append(Unsupported(f"the regularizer of {name}", str(error),
                                                "<variable " + name + ">"))
            regularizer = None
        try:
            constraint = constraint_code(getattr(variable, "constraint", None))
        except NotConvertible as error:
            self.unsupported.append(Unsupported(f"the constraint of {name}", str(error),
                                                "<variable " + name + ">"))
            constraint = None
        raw = RawVariable(
            source=variable, tf1_name=name, shape=tuple(int(d) for d in variable.shape),
            dtype=tf.as_dtype(variable.dtype).name, trainable=bool(variable.trainable),
            initializer=initializer_or_note(created.get("initializer"), notes, name)
            if created else self._unknown_initializer(name),
            regularizer=regularizer, constraint=constraint, scope=_dirname(name))
        self.raw[id(variable)] = raw
        return raw

    def _unknown_initializer(self, name):
        self.context.notes.append(
            f"{name}: not made by get_variable, so how it was initialized is unknown; "
            "GlorotUniform is written (the converted model holds its current value)")
        return initializer_or_note(None, [], name)

    # -- raw weight patterns -------------------------------------------------
    def _match_patterns(self):
        view = _View(self)
        nodes = []
        for op in reversed(self.ops):
            if op.name not in self.live_ops or op.name in self.matched_ops:
                continue
            for pattern in patterns.GRAPH_PATTERNS:
                match = pattern(op, view)
                if match is None:
                    continue
                variables = [v for v in match.variables if v is not None]
                names = [tf1_name(v, self.context.owner_name) for v in variables]
                scope = _common_scope(names)
                if len(names) == 1 and names[0].rsplit("/", 1)[-1] not in _GENERIC_WEIGHTS:
                    scope = names[0]  # one telling name: `word_embeddings`, not its scope
                instance = LayerInstance(match.spec, scope, op_location(op))
                self.instances.append(instance)
                for attribute, variable in match.spec.weights.items():
                    self.layer_weights[id(variable)] = (instance, attribute)
                self.matched_ops.update(o.name for o in match.ops)
                root = min(self._index(o) for o in match.ops)
                node = Node(inputs=[self._ref(t) for t in match.inputs],
                            outputs=[self._key(match.output)], order=root,
                            scope=_dirname(scope), location=op_location(op), instance=instance,
                            output_structure=match.output, origin=op)
                node.input_structure = None if len(match.inputs) == 1 else [None] * len(match.inputs)
                nodes.append(node)
                break
        return nodes

    # -- glue ops ---------------------------------------------------------------
    def _op_node(self, op):
        refs = [self._ref(t) for t in op.inputs]
        node = Node(inputs=refs, outputs=[t.name for t in op.outputs], order=self._index(op),
                    scope=self.op_scope(op.name), location=op_location(op), op_type=op.type,
                    origin=op)
        node.op = op
        if any(self.source(t)[0] in ("unknown", "internal") for t in op.inputs):
            node.unsupported = "it reads a value that could not be converted (reported above)"
            return node
        if op.type in _RANDOM_OPS or op.type.startswith("Stateless"):
            node.unsupported = ("random values outside a layer would differ from the TF1 "
                                "model's; use a Keras layer (e.g. keras.layers.Dropout)")
        elif op.type in ("While", "StatelessWhile"):
            node.unsupported = (
                "a tf.while_loop, whose body the converter does not read (an RNN is "
                "converted when called as tf.compat.v1.nn.dynamic_rnn, not through a name "
                "imported before the conversion)")
        elif op.type not in EMITTERS:
            node.unsupported = f"no translation for the TensorFlow op {op.type}"
        for ref in refs:
            if isinstance(ref, ConstRef) and np.size(ref.value) > _LARGEST_CONSTANT:
                node.unsupported = (f"a constant of {np.size(ref.value)} values (make it a "
                                    "weight, or a constant the model loads)")
        if node.unsupported:
            self.unsupported.append(Unsupported(f"{op.type} op {self.op_scope(op.name)}",
                                                node.unsupported, node.location))
        return node

    def op_scope(self, op_name: str) -> str:
        """The TF1 scope an op was created in, read from its graph name: the
        innermost known scope around it (one that holds variables or layers,
        or that a decorated call ran in). The name scopes TensorFlow's
        functions open for their own ops (`Reshape/shape`, `moments`) are not
        the model's structure."""
        path = _dirname(self.tf1_path(op_name))
        known = self.known_scopes()
        while path and path not in known:
            path = _dirname(path)
        return path

    def known_scopes(self) -> set:
        cached = getattr(self, "_known_scopes", None)
        if cached is not None:
            return cached
        paths = set(self.trace.name_scopes.values())
        paths.update(_dirname(tf1_name(v, self.context.owner_name))
                     for v in self.trace.variables.values())
        for call in self.trace.calls:
            paths.add(call.scope.rstrip("/"))
            paths.add(self.tf1_path(call.name_scope))
        known = set()
        for path in paths:
            while path and path not in known:
                known.add(path)
                path = _dirname(path)
        self._known_scopes = known
        return known

    def tf1_path(self, name: str) -> str:
        """A graph name with its name-scope prefix replaced by the TF1 scope."""
        table = self.trace.name_scopes
        parts = name.split("/")
        for cut in range(len(parts), 0, -1):
            prefix = "/".join(parts[:cut])
            if prefix in table:
                rest = "/".join(parts[cut:])
                return "/".join(p for p in (table[prefix], rest) if p)
        return name

    def call_scope(self, call) -> str:
        """The TF1 scope a layer is named after.

        TF-Slim gives its pooling and other weightless layers a name scope as
        their scope (`_scope="net/pool1/"`), which TF1 layers do not take apart;
        such a layer is named after where its ops ran.
        """
        if call.kind == "tf1" and call.scope.endswith("/") and not self.specs[call].weights:
            return self.tf1_path(call.name_scope)
        return call.scope

    def glue_types(self) -> list:
        return [op.type for op in self.ops if op.name in self.live_ops]

    def compare_glue(self, other_trace):
        """The ops between the layers must not depend on `training`."""
        from tf1kit.convert.patterns import Context

        other = _Analysis(other_trace, None, Context(other_trace.creations, []))
        other.convert_calls()
        other.opaque_regions()
        other.walk()
        mine, theirs = self.glue_types(), other.glue_types()
        if mine == theirs:
            return
        live = [op for op in self.ops if op.name in self.live_ops]
        differs = next((i for i, (a, b) in enumerate(zip(mine, theirs)) if a != b),
                       min(len(mine), len(theirs)))
        location = op_location(live[min(differs, len(live) - 1)]) if live else "<unknown>"
        self.unsupported.append(Unsupported(
            "the ops between the layers",
            "they differ between training=True and training=False (a Python branch on "
            "`training` outside the layers)", location))

    def _side_effects(self) -> list:
        """Stateful ops the outputs do not depend on: each is reported, and
        stands in the source where it ran."""
        nodes = []
        for op in self.ops:
            index = self._index(op)
            if op.name in self.live_ops or self.owner[index] is not None:
                continue
            if op.type in HARMLESS_UNUSED or not op.op_def.is_stateful:
                continue
            if op.type in ("Assert", "PrintV2", "Print"):
                self.context.notes.append(
                    f"{op_location(op)}: the {op.type} op was left out (it checks or prints, "
                    "and changes no value)")
                continue
            reason = ("a side effect outside the converted layers (a variable update written "
                      "by hand, say) has no place in the native model")
            self.unsupported.append(Unsupported(f"{op.type} op {self.op_scope(op.name)}",
                                                reason, op_location(op)))
            node = Node(inputs=[], outputs=[], order=index, scope=self.op_scope(op.name),
                        location=op_location(op), op_type=op.type, unsupported=reason,
                        origin=op)
            node.op = op
            nodes.append(node)
        return nodes


_NOT_CONVERTIBLE = object()


def _unconvertible(call, reason) -> ExprSpec:
    """A call whose ops cannot be read either: one step that the source
    writes as `raise NotImplementedError(<the user's line>: <reason>)`."""
    def emit(args):
        raise NotConvertible(reason)

    inputs = [t for t in tf.nest.flatten(call.inputs) if tf.is_tensor(t)]
    return ExprSpec(emit, inputs, call.layer.name.rsplit(".", 1)[-1])


def _same_step(a, b) -> bool:
    if type(a.layer) is not type(b.layer) or a.scope != b.scope:
        return False
    return a.kind != "function" or a.layer.name == b.layer.name


def _training_only(call) -> bool:
    if call.kind != "function":
        return False
    return getattr(patterns.FUNCTION_CONVERTERS.get(call.layer.name), "training_only", False)


def _align(calls, others):
    """Pairs the calls of the training=True trace with those of the
    training=False one; a training-only call (dropout) pairs with None.
    Returns (pairs, None), or (None, the first call that has no partner)."""
    pairs, j = [], 0
    for call in calls:
        if j < len(others) and _same_step(call, others[j]):
            pairs.append((call, others[j]))
            j += 1
        elif _training_only(call):
            pairs.append((call, None))
        else:
            return None, call
    if j < len(others):
        return None, others[j]
    return pairs, None


def _is_flag(value) -> bool:
    return isinstance(value, (bool, np.bool_))


def _common_scope(names) -> str:
    """`a/b/w`, `a/b/c` -> `a/b` (the scope a pattern layer is named after)."""
    scopes = [_dirname(n) for n in names]
    if not scopes:
        return ""
    if all(s == scopes[0] for s in scopes):
        return scopes[0] or names[0]
    parts = [s.split("/") for s in scopes]
    common = []
    for items in zip(*parts):
        if all(i == items[0] for i in items):
            common.append(items[0])
        else:
            break
    return "/".join(common) or names[0]


class _View:
    """What graph patterns may ask about the glue."""

    def __init__(self, analysis):
        self._analysis = analysis
        self.context = analysis.context

    def producer(self, tensor):
        kind = self._analysis.source(tensor)
        if kind[0] == "op" and self.is_free(kind[1]):
            return kind[1]
        return None

    def is_free(self, op) -> bool:
        a = self._analysis
        return op.name in a.live_ops and op.name not in a.matched_ops

    def constant(self, tensor):
        """The value of a constant input (None if it is computed)."""
        kind = self._analysis.source(tensor)
        return kind[1] if kind[0] == "const" else None

    def single_use(self, tensor) -> bool:
        return self._analysis.consumers.get(self._analysis._key(tensor), 0) == 1

    def raw_variable(self, tensor):
        """The variable `tensor` reads, when no layer owns it and nothing else reads it."""
        a = self._analysis
        kind = a.source(tensor)
        if kind[0] != "var":
            return None
        variable = kind[1]
        if id(variable) in a.layer_weights or a.variable_reads.get(id(variable), 0) != 1:
            return None
        return variable


def _unique(items) -> list:
    seen, unique = set(), []
    for item in items:
        key = (item.what, item.reason, item.location)
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique


def analyze(trace, other, context) -> Forward:
    analysis = _Analysis(trace, other, context)
    analysis.convert_calls()
    analysis.opaque_regions()
    analysis.walk()
    nodes = analysis.build()
    outputs = [analysis._ref(t) if tf.is_tensor(t) else ConstRef(np.asarray(t))
               for t in analysis.flat_outputs]
    if other is not None:
        analysis.compare_glue(other)
    raw = list(analysis.raw.values())
    uses_training = any(n.call_kwargs.get("training") is TRAINING for n in nodes)
    return Forward(
        inputs=[t.name for t in trace.inputs], input_structure=None, outputs=outputs,
        output_structure=trace.outputs, nodes=nodes, raw_variables=raw,
        instances=[i for i in analysis.instances if any(n.instance is i for n in nodes)],
        unsupported=_unique(analysis.unsupported), notes=context.notes,
        uses_training=uses_training)
