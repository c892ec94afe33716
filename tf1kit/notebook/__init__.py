"""Notebook kit: the `%%tf1layer` magic, the live inspector and pdb stepping.

Importing this package stays cheap: IPython, ipywidgets and matplotlib are
imported only when a magic is loaded or an inspector is built.
"""

from __future__ import annotations


def load_ipython_extension(shell):
    """`%load_ext tf1kit`: registers the magics and installs the TF1 names."""
    from tf1kit.notebook.magics import register

    register(shell)


def inspect(obj, **options):
    """Shows a live inspector for a shim layer, module or a model holding them."""
    from tf1kit.notebook.inspector import Inspector

    return Inspector(obj, **options)


def __getattr__(name):
    # Keras' Callback base is imported only when the callback is asked for.
    if name == "InspectorCallback":
        from tf1kit.notebook.callback import InspectorCallback

        return InspectorCallback
    if name == "Inspector":
        from tf1kit.notebook.inspector import Inspector

        return Inspector
    raise AttributeError(f"module 'tf1kit.notebook' has no attribute {name!r}")


__all__ = ["Inspector", "InspectorCallback", "inspect", "load_ipython_extension"]
