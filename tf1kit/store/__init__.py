"""The variable store: where TF1-style variables live on Keras 3."""

from tf1kit.store.variable import TF1Variable
from tf1kit.store.variable_store import VariableStore
from tf1kit.store import reuse_fast_path  # noqa: F401  (installs the eager reuse path)

__all__ = ["TF1Variable", "VariableStore"]
