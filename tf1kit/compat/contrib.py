"""`tf.compat.v1.contrib`: the parts of `tf.contrib` that TF-Slim still ships.

TF1 code names `tf.contrib.layers.xavier_initializer`, `.l2_regularizer`,
`.layer_norm`, `tf.contrib.framework.arg_scope`, `tf.contrib.slim`, ... all
the time. The `tf-slim` package carries on exactly those modules, so
`install(contrib=True)` serves them under their TF1 names:

- `contrib.layers`: `tf_slim.layers` (layers, initializers, regularizers,
  `optimize_loss`, summaries);
- `contrib.framework`: slim's `arg_scope` family and variable helpers
  (`get_variables`, `model_variable`, `assign_from_checkpoint_fn`, ...);
- `contrib.slim`: `tf_slim`.

`import tensorflow.contrib.layers` works too (so `tensorflow.contrib` is
set as well). Anything else in `tf.contrib`
(seq2seq, rnn's extra cells, ...) raises a clear AttributeError.
"""

from __future__ import annotations

import sys
import types

import tensorflow as tf

_PARTS = ("layers", "framework", "slim")


class _ContribModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise AttributeError(
            f"tf.contrib.{name} is not provided: tf1kit serves only the parts of "
            f"tf.contrib that the tf-slim package ships ({', '.join(_PARTS)}). "
            "See the TF2 migration guide for a replacement.")


def contrib_targets() -> list:
    """(owner, attribute or key, replacement) for `tf1kit.install(contrib=True)`."""
    try:
        import tf_slim
    except ImportError as exc:
        raise ImportError(
            "tf1kit.install(contrib=True) serves tf.contrib from the tf-slim package: "
            "pip install tf-slim") from exc
    from tf_slim.ops import arg_scope, variables

    layers = sys.modules["tf_slim.layers"]  # the package; tf_slim.layers is shadowed
    framework = types.ModuleType("tensorflow.contrib.framework",
                                 "tf.contrib.framework as TF-Slim ships it.")
    for module in (arg_scope, variables):
        for name in module.__all__:
            setattr(framework, name, getattr(module, name))
    contrib = _ContribModule("tensorflow.contrib", __doc__)
    contrib.layers, contrib.framework, contrib.slim = layers, framework, tf_slim
    modules = {"tensorflow.contrib": contrib, "tensorflow.contrib.layers": layers,
               "tensorflow.contrib.framework": framework, "tensorflow.contrib.slim": tf_slim}
    # The attribute on `tensorflow` is what `import tensorflow.contrib.layers`
    # followed by `tensorflow.contrib.layers.xavier_initializer` reads.
    return [(tf.compat.v1, "contrib", contrib), (sys.modules["tensorflow"], "contrib", contrib),
            *((sys.modules, key, module) for key, module in modules.items())]
