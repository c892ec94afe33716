"""The variable store: where TF1-style variables live on Keras 3."""

from tf1kit.store.variable import TF1Variable
from tf1kit.store.variable_store import VariableStore

__all__ = ["TF1Variable", "VariableStore"]
