"""`to_keras`: a shimmed TF1 forward pass as native Keras 3 source, model and weight map."""

from tf1kit.convert.result import ConversionResult
from tf1kit.convert.conversion import to_keras

__all__ = ["ConversionResult", "to_keras"]
