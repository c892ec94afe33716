"""What the converter recognizes, one family per module.

Two kinds of pattern turn parts of a recorded forward pass into Keras layers:

* layer converters (`converts(SomeTF1Layer)`): a recorded call of that layer
  class becomes a `LayerSpec`, or raises `NotConvertible` with the reason (the
  call's ops are then read from the graph like the rest);
* graph patterns (`graph_pattern`): raw `get_variable` weights used the way a
  layer uses them (`tf.matmul` + `bias_add`, `tf.nn.conv2d`, ...) become that
  layer.

* function converters (`converts_function("tensorflow.compat.v1.nn.dynamic_rnn")`):
  a public function whose ops are better written as one call than op by op
  (an RNN over its time steps, a loss, layer_norm) is recorded while it
  runs; the call becomes a `LayerSpec` (a Keras layer) or an `ExprSpec`
  (one `tf` expression), or raises `NotConvertible` (then its ops are read).

A new family is one more module here, imported below.
"""

from __future__ import annotations

import dataclasses

from tf1kit.convert.values import Code, NotConvertible, initializer_or_note, regularizer_code

LAYER_CONVERTERS: dict = {}
FUNCTION_CONVERTERS: dict = {}  # dotted public name -> converter
KERAS_FALLBACK = []  # converters for any built-in Keras layer
GRAPH_PATTERNS: list = []
# Classes a converted layer may need in the generated source: name -> source,
# formatted with {package} (the registration package of the generated classes).
HELPERS: dict = {}


def converts(*layer_classes):
    """Registers a converter for recorded calls of exactly these classes."""
    def register(function):
        for layer_class in layer_classes:
            LAYER_CONVERTERS[layer_class] = function
        return function
    return register


def converts_function(*names, training_only=False, opaque=False):
    """Registers a converter for calls of these public functions, each named
    by its dotted path (`"tensorflow.compat.v1.nn.dynamic_rnn"`); every
    module attribute bound to that function is recorded while a forward pass
    is traced.

    training_only: the TF1 code calls it only when training (dropout that
    code skips at inference); such a call has no counterpart in the
    training=False trace, and runs with the model's `training` flag.
    opaque: its ops cannot be read one by one (a `tf.while_loop`), so a call
    the converter cannot convert is reported as it is, with the reason.
    """
    def register(function):
        for name in names:
            FUNCTION_CONVERTERS[name] = function
        function.training_only = training_only
        function.opaque = opaque
        return function
    return register


def graph_pattern(function):
    """Registers `function(op, view) -> Match | None`."""
    GRAPH_PATTERNS.append(function)
    return function


@dataclasses.dataclass
class Context:
    """What converters may read besides the call: how variables were requested."""

    creations: dict
    notes: list
    owner_name: str = ""  # the converted layer's name (Keras paths are named below it)

    def created(self, variable) -> dict:
        return self.creations.get(id(variable), {})

    def initializer(self, variable, given, what: str) -> Code:
        """The initializer the variable was requested with (else `given`)."""
        requested = self.created(variable).get("initializer", given)
        return initializer_or_note(requested, self.notes, what)

    def regularizer(self, variable) -> Code | None:
        return regularizer_code(getattr(variable, "regularizer", None))


def converter_for(call):
    if call.kind == "function":
        return FUNCTION_CONVERTERS.get(call.layer.name)
    converter = LAYER_CONVERTERS.get(type(call.layer))
    if converter is None and call.kind == "keras" and KERAS_FALLBACK:
        converter = KERAS_FALLBACK[0]
    return converter


def load():
    """Imports the pattern modules (each registers itself)."""
    from tf1kit.convert.patterns import (  # noqa: F401
        functions, keras_layers, raw_layers, rnn, tf1_layers)


__all__ = ["Context", "FUNCTION_CONVERTERS", "GRAPH_PATTERNS", "HELPERS", "LAYER_CONVERTERS",
           "NotConvertible", "converter_for", "converts", "converts_function", "graph_pattern",
           "load"]
