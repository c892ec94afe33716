"""The verify report of a conversion (tf1kit.verify, when it is installed)."""

from __future__ import annotations


def verify_report(layer, inputs, model, weight_map, tf1_named=None):
    """`tf1kit.verify.verify(layer, inputs, native=model, name_map=...)`, or
    None while tf1kit.verify is not part of this installation.

    The name map holds the weight map's TF1-named variables (`tf1_named`:
    `get_variable`, TF1 layers). A Keras layer's own weights are named after
    Keras' process-wide counters (`conv2d_3`), which verify's fresh instances,
    built under counters of their own, do not share: verify pairs those itself.
    """
    try:
        from tf1kit.verify import verify
    except ImportError:
        return None
    name_map = weight_map if tf1_named is None else {
        name: path for name, path in weight_map.items() if name in tf1_named}
    return verify(layer, inputs, native=model, name_map=name_map)
