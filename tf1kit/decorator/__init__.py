"""The decorator: turns a TF1 forward pass into a tracked Keras 3 method."""

from tf1kit.decorator.track import (
    add_call_observer,
    drop_variable,
    remove_call_observer,
    restore_variable,
    find_store,
    get_or_create_layer,
    is_call_observer,
    store_of,
    store_scope,
    stores_below,
    track_tf1_style_variables,
)

__all__ = [
    "add_call_observer",
    "drop_variable",
    "remove_call_observer",
    "restore_variable",
    "find_store",
    "get_or_create_layer",
    "is_call_observer",
    "store_of",
    "store_scope",
    "stores_below",
    "track_tf1_style_variables",
]
