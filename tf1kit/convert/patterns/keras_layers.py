"""Built-in Keras 3 layers called inside the TF1 code: kept as they are.

The converted model creates the same class with the same configuration; only
the arguments that differ from that class's defaults are written.
"""

from __future__ import annotations

import inspect

import keras

from tf1kit.convert.ir import LayerSpec
from tf1kit.convert.patterns import KERAS_FALLBACK
from tf1kit.convert.values import Code, NotConvertible, literal

_SKIPPED = {"name", "dtype", "trainable", "build_config", "compile_config"}


def builtin_keras_layer(call, context):
    layer = call.layer
    class_name = type(layer).__name__
    if getattr(keras.layers, class_name, None) is not type(layer):
        raise NotConvertible(f"{type(layer).__module__}.{class_name} is not in keras.layers")
    config = layer.get_config()
    required = _required(type(layer), config)
    defaults = _default_config(type(layer), required)
    args = {key: _value_code(config[key]) for key in required}
    for key, value in config.items():
        if key in _SKIPPED or key in args or (key in defaults and defaults[key] == value):
            continue
        args[key] = _value_code(value)
    if not layer.trainable:
        args["trainable"] = False
    weights = {index: variable for index, variable in enumerate(layer.weights)}
    short = _snake(class_name)
    return LayerSpec(f"keras.layers.{class_name}", args, weights, short_name=short)


def _required(layer_class, config) -> dict:
    """The constructor arguments with no default, from the layer's config."""
    parameters = inspect.signature(layer_class.__init__).parameters
    return {name: config[name] for name, p in parameters.items()
            if name != "self" and p.default is inspect.Parameter.empty
            and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and name in config}


def _default_config(layer_class, required) -> dict:
    """The configuration of the class built with only its required arguments."""
    try:
        return layer_class(**required).get_config()
    except Exception:  # noqa: BLE001 - then every argument is written out
        return {}


def _value_code(value):
    if isinstance(value, dict) and "class_name" in value and "module" in value:
        obj = keras.saving.deserialize_keras_object(value)
        config = dict(obj.get_config()) if hasattr(obj, "get_config") else {}
        if config.get("seed") is None:
            config.pop("seed", None)
        arguments = ", ".join(f"{k}={literal(v)}" for k, v in config.items())
        return Code(f"{value['module']}.{value['class_name']}({arguments})")
    if isinstance(value, list):
        return tuple(value) if all(isinstance(v, (int, float)) for v in value) else value
    literal(value)  # raises NotConvertible for values with no source form
    return value


def _snake(name: str) -> str:
    import re

    return re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", name).lower()


KERAS_FALLBACK.append(builtin_keras_layer)
