"""tf1kit: TensorFlow 1.x modeling code on TensorFlow 2 and Keras 3.

    import tf1kit
    tf1kit.install()   # tf.compat.v1.layers, nn.rnn_cell and the model-mapping shim resolve again

The public API is what this module exports; everything else is internal.

    report = tf1kit.verify(layer, x, native=rewrite)   # TF1 graph vs shim vs native
    tf1kit.assert_equivalent(layer, x, native=rewrite)  # the same, raising for pytest
"""

from tf1kit._versions import check_versions as _check_versions

_check_versions()

from tf1kit import layers, rnn  # noqa: E402
from tf1kit.checkpoint import load_tf1_checkpoint  # noqa: E402
from tf1kit.compat import install, uninstall  # noqa: E402
from tf1kit.convert import to_keras  # noqa: E402
from tf1kit.decorator import get_or_create_layer, track_tf1_style_variables  # noqa: E402
from tf1kit.notebook import InspectorCallback, inspect, load_ipython_extension  # noqa: E402
from tf1kit.testing import DeterministicRandomTestTool  # noqa: E402
# `verify` proves a migration step numerically: the layer's forward pass as TF1
# code in a Graph + Session (the ground truth), the shim eagerly and in
# tf.function, and the native rewrite; it returns a VerifyReport (plain data).
from tf1kit.verify import assert_equivalent, verify  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "DeterministicRandomTestTool",
    "InspectorCallback",
    "assert_equivalent",
    "get_or_create_layer",
    "inspect",
    "install",
    "layers",
    "load_ipython_extension",
    "load_tf1_checkpoint",
    "rnn",
    "to_keras",
    "track_tf1_style_variables",
    "uninstall",
    "verify",
]
