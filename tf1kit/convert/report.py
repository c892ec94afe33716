"""The verify report of a conversion (tf1kit.verify, when it is installed)."""

from __future__ import annotations


def verify_report(layer, inputs, model, weight_map):
    """`tf1kit.verify.verify(layer, inputs, native=model, name_map=weight_map)`,
    or None while tf1kit.verify is not part of this installation."""
    try:
        from tf1kit.verify import verify
    except ImportError:
        return None
    return verify(layer, inputs, native=model, name_map=weight_map)
