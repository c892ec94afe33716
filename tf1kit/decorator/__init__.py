"""The decorator: turns a TF1 forward pass into a tracked Keras 3 method."""

from tf1kit.decorator.track import (
    add_call_observer,
    remove_call_observer,
    find_store,
    get_or_create_layer,
    store_of,
    store_scope,
    track_tf1_style_variables,
)

__all__ = [
    "add_call_observer",
    "remove_call_observer",
    "find_store",
    "get_or_create_layer",
    "store_of",
    "store_scope",
    "track_tf1_style_variables",
]
