"""The converter's intermediate form: the forward pass as Keras layers and ops.

A `Forward` is what `graph.analyze` reads out of a recorded trace:

* `LayerInstance`: a Keras layer the native model creates once (from a
  recorded TF1/Keras layer, or from a raw `get_variable` pattern), with the
  shim variables its weights take their values from;
* `Node`: one step of the forward pass, a call of a layer instance or one
  TensorFlow op written as source;
* `RawVariable`: a `get_variable` variable no Keras layer owns; the custom
  layer named after its scope creates it with `add_weight`;
* refs between them: `TensorRef` (a value produced by a node or an input),
  `VariableRef` and `ConstRef`.
"""

from __future__ import annotations

import dataclasses

from tf1kit.convert.values import Code

# `training=TRAINING` in a call: pass the converted model's own `training` argument.
TRAINING = Code("training")


@dataclasses.dataclass
class LayerSpec:
    """A Keras layer to create: its class, constructor arguments and weights.

    weights maps the Keras layer's attribute (or index into `.weights`) to the
    shim variable whose value it takes.
    """

    class_name: str
    args: dict
    weights: dict = dataclasses.field(default_factory=dict)
    helpers: tuple = ()
    short_name: str = "layer"  # attribute name when the layer shares its group's scope
    # For recorded functions (see patterns.converts_function), all optional:
    inputs: object = None      # the graph tensors the layer is called on (default: the call's)
    scope: str = ""            # the TF1 scope the layer is named after (default: the call's)
    training: object = None    # how its `training` argument follows the model's
    # `select_outputs(used)`: told which of the call's flat outputs the model
    # uses (once, before any source is written), it may adjust `args`, and
    # returns the positions the Keras layer returns (None: all, as recorded).
    select_outputs: object = None
    # `write_call(call)`: the statements that call the layer, given a `CallWriting`.
    write_call: object = None


@dataclasses.dataclass
class ExprSpec:
    """A recorded function written back as one expression (`tf.nn.xxx(...)`).

    `emit(args)` gets the source of each of `inputs` (`ops.Arg`) and returns
    an `ops.Expr`; `label` names the value (`sparse_softmax_cross_entropy`).
    """

    emit: object
    inputs: list
    label: str


@dataclasses.dataclass
class CallWriting:
    """What `LayerSpec.write_call` gets: the layer, its arguments' source,
    which outputs are used, and how to name values."""

    target: str          # `self.rnn`
    arguments: list      # source of each input, flat
    used: list           # per flat output: does the model use it
    training: str        # `training=training`, `training=True` or ""
    fresh: object        # fresh(hint) -> an unused name
    chain: object        # chain(hint) -> the name a chain carries on (x = f(x)), or fresh


@dataclasses.dataclass(eq=False)
class LayerInstance:
    spec: LayerSpec
    scope: str          # TF1 scope path: its dirname is the group, basename the name
    location: str
    name: str = ""


@dataclasses.dataclass(eq=False)
class RawVariable:
    """A variable created by `get_variable` outside any converted layer."""

    source: object       # the shim variable
    tf1_name: str
    shape: tuple
    dtype: str
    trainable: bool
    initializer: Code
    regularizer: Code | None
    constraint: Code | None
    scope: str           # the group that owns it
    attribute: str = ""
    member_name: str = ""


@dataclasses.dataclass(frozen=True)
class TensorRef:
    key: str             # graph tensor name


@dataclasses.dataclass(frozen=True, eq=False)
class VariableRef:
    variable: object     # RawVariable, or (LayerInstance, attribute) for a layer's weight


@dataclasses.dataclass(frozen=True, eq=False)
class ConstRef:
    value: object        # numpy value


@dataclasses.dataclass(eq=False)
class Node:
    """One step: `instance` called on `inputs`, or an op written by `emit`."""

    inputs: list
    outputs: list                  # graph tensor names this node produces
    order: int                     # creation order in the graph
    scope: str                     # the group it runs in
    location: str
    instance: LayerInstance | None = None
    call_kwargs: dict = dataclasses.field(default_factory=dict)
    output_structure: object = None  # how a layer call's outputs nest
    emit: object = None            # op nodes: function(list[Expr]) -> Expr or tuple of names
    op_type: str = ""
    unsupported: str = ""          # reason, when this op could not be converted
    input_structure: object = None  # how a layer call's inputs nest (None: one tensor)
    origin: object = None          # the LayerCall or graph op this node came from

    def frames(self) -> list:
        """(file, line) of every frame that made this node, outermost first."""
        cached = getattr(self, "_frames", None)
        if cached is None:
            origin = self.origin
            stack = origin.stack if hasattr(origin, "stack") else getattr(origin, "traceback", [])
            cached = self._frames = [(f.filename, f.lineno) for f in stack]
        return cached

    @property
    def is_call(self) -> bool:
        return self.instance is not None


@dataclasses.dataclass
class Unsupported:
    """Something the converter could not write as native Keras 3."""

    what: str
    reason: str
    location: str

    def __str__(self):
        return f"{self.location}: {self.what}: {self.reason}"


@dataclasses.dataclass
class Forward:
    """The analyzed forward pass."""

    inputs: list              # graph tensor names of the call's inputs, flat
    input_structure: object
    outputs: list             # refs, flat
    output_structure: object
    nodes: list               # Node, in creation order
    raw_variables: list       # RawVariable
    instances: list           # LayerInstance
    unsupported: list
    notes: list
    uses_training: bool = False
