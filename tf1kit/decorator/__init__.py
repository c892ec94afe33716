"""The decorator: turns a TF1 forward pass into a tracked Keras 3 method."""

from tf1kit.decorator.track import (
    find_store,
    get_or_create_layer,
    store_of,
    store_scope,
    track_tf1_style_variables,
)

__all__ = [
    "find_store",
    "get_or_create_layer",
    "store_of",
    "store_scope",
    "track_tf1_style_variables",
]
