"""What the converter recognizes, one family per module.

Two kinds of pattern turn parts of a recorded forward pass into Keras layers:

* layer converters (`converts(SomeTF1Layer)`): a recorded call of that layer
  class becomes a `LayerSpec`, or raises `NotConvertible` with the reason (the
  call's ops are then read from the graph like the rest);
* graph patterns (`graph_pattern`): raw `get_variable` weights used the way a
  layer uses them (`tf.matmul` + `bias_add`, `tf.nn.conv2d`, ...) become that
  layer.

A new family (the RNN cells, say) is one more module here, imported below.
"""

from __future__ import annotations

import dataclasses

from tf1kit.convert.values import Code, NotConvertible, initializer_or_note, regularizer_code

LAYER_CONVERTERS: dict = {}
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
    converter = LAYER_CONVERTERS.get(type(call.layer))
    if converter is None and call.kind == "keras" and KERAS_FALLBACK:
        converter = KERAS_FALLBACK[0]
    return converter


def load():
    """Imports the pattern modules (each registers itself)."""
    from tf1kit.convert.patterns import keras_layers, raw_layers, tf1_layers  # noqa: F401


__all__ = ["Context", "GRAPH_PATTERNS", "HELPERS", "LAYER_CONVERTERS", "NotConvertible", "converter_for",
           "converts", "graph_pattern", "load"]
