"""TF-Slim on tf1kit: slim's layer functions build `tf1kit.layers`.

TF-Slim builds `conv2d`, `fully_connected`, `batch_norm`, ... on TensorFlow's
private copy of the TF1 layers (`tensorflow.python.layers.*`). On TF 2.21
that copy hands regularizers to no one inside a decorated call (the losses
are lost) and its batch normalization forwards to a tf_keras module that
does not exist. Pointing slim's four layer-module references at
`tf1kit.layers` gives slim ordinary get_variable variables and regularizers,
so the decorated owner tracks both. TF 2.21 also removed `ops.Tensor`, which
slim's `smart_cond` (batch_norm, dropout) still reads; it is put back.

Eagerly, TensorFlow's internal `ops.name_scope` yields None, and slim's
pooling, flatten, ... pass that to `collect_named_outputs` as the alias of
their output (`outputs_collections`, the end points of `slim.nets`). Slim's
layers module gets an `ops` whose `name_scope` yields the name a TF1 graph
would have used (`vgg_16/pool1/`), and eager collections keep the latest
tensor of each alias instead of every call's.

Slim files a variable into a collection unless `var in get_collection(...)`
already; TF 1.x compared variables by identity there. In a TF2 process with
tensor equality on, `in` compares a variable elementwise with every member and
fails ("truth value of an array ... is ambiguous": inception_v1-v3's batch
norms). Slim's two membership checks get collections whose `in` is identity,
as in TF 1.x, whether or not the user disabled tensor equality.
"""

from __future__ import annotations

import contextlib
import functools
import sys

import tensorflow as tf
from tensorflow.python.framework import ops

# The names under which tf_slim.layers.layers imports the TF1 layer modules.
_SLIM_LAYER_MODULES = (
    "convolutional_layers", "core_layers", "normalization_layers", "pooling_layers")


def slim_targets() -> list:
    """(owner, attribute, replacement) triples for `tf1kit.install()`.

    Empty when tf_slim is not installed. Importing tf_slim here (~50 ms)
    makes the patch independent of whether the user imports slim before or
    after `install()`.
    """
    try:
        import tf_slim  # noqa: F401
    except ImportError:
        return []
    from tf1kit import layers
    from tf1kit.layers import functional_cache
    from tf1kit.layers.base import construct_functional

    slim_layers = sys.modules["tf_slim.layers.layers"]
    slim_utils = sys.modules["tf_slim.layers.utils"]
    # Slim's own custom getter only renames (kernel -> weights) and returns the
    # variable: a layer reused under it finds what a new one would.
    functional_cache.renaming_getter_codes.add(
        slim_layers._build_variable_getter().__code__)
    layers_for_slim = _LayersReusingBuiltObjects(layers, construct_functional)
    targets = [(slim_layers, name, layers_for_slim) for name in _SLIM_LAYER_MODULES]
    targets.append((slim_layers, "ops", _OpsNamingEagerScopes()))
    targets.append((sys.modules["tf_slim.ops.variables"], "ops", _OpsWithIdentityCollections()))
    original_collect = vars(slim_utils)["collect_named_outputs"]
    targets.append((slim_utils, "collect_named_outputs", functools.wraps(original_collect)(
        functools.partial(_collect_named_outputs, original_collect))))
    if "Tensor" not in vars(ops):
        targets.append((ops, "Tensor", tf.Tensor))
    return targets


# The layers slim constructs on every call with `_scope=sc`: those holding
# variables, and pooling. A pooling layer holds nothing a call could change;
# reused, it keeps the name it drew from the per-graph counter on the first
# call (`max_pooling2d_1`), as the one TF1 built once did, where a new one
# drew a new name on every eager call. (Dropout stays per call: its random
# ops' seeds are drawn per application.)
_LAYERS_SLIM_CONSTRUCTS = (
    "Convolution1D", "Convolution2D", "Convolution3D", "Convolution2DTranspose",
    "Convolution3DTranspose", "SeparableConvolution2D", "Dense", "BatchNormalization",
    "MaxPooling2D", "MaxPooling3D", "AveragePooling2D", "AveragePooling3D")


class _LayersReusingBuiltObjects:
    """`tf1kit.layers` as slim sees it: the classes slim constructs per call
    build through `functional_cache`, so an eager call reuses the layer its
    call site built last time (TF-Slim built a new one on every call)."""

    def __init__(self, layers, construct_functional):
        self._layers = layers
        for name in _LAYERS_SLIM_CONSTRUCTS:
            setattr(self, name, _constructing(getattr(layers, name), construct_functional))

    def __getattr__(self, name):
        return getattr(self._layers, name)


def _constructing(layer_class, construct_functional):
    def construct(*args, **kwargs):
        if args or "_scope" not in kwargs:
            return layer_class(*args, **kwargs)
        return construct_functional(layer_class, kwargs)

    construct.__name__ = construct.__qualname__ = layer_class.__name__
    construct.__doc__ = f"{layer_class.__name__}(**kwargs), reused per slim call site."
    return construct


class _IdentityMembership(list):
    """A collection's members, where `in` asks for the same object (TF 1.x)."""

    def __contains__(self, item):
        return any(member is item for member in self)


class _OpsWithIdentityCollections:
    """TensorFlow's `ops` module, but `x in get_collection(key)` is identity."""

    def __getattr__(self, name):
        return getattr(ops, name)

    @staticmethod
    def get_collection(key, scope=None):
        return _IdentityMembership(ops.get_collection(key, scope))


class _OpsNamingEagerScopes(_OpsWithIdentityCollections):
    """TensorFlow's `ops` module, but `name_scope` names its scope eagerly too."""

    @staticmethod
    def name_scope(name, default_name=None, values=None, skip_on_eager=True):
        if not tf.executing_eagerly():
            return ops.name_scope(name, default_name, values, skip_on_eager)
        return _eager_scope_name(name or default_name)


@contextlib.contextmanager
def _eager_scope_name(name):
    """Eager ops have no name scope; the variable scope stands in for it, as
    in a TF1 graph where slim's variable and name scopes coincide."""
    if name and not name.endswith("/"):
        outer = tf.compat.v1.get_variable_scope().name
        name = f"{outer}/{name}/" if outer else f"{name}/"
    yield name


def _collect_named_outputs(original, collections, alias, outputs):
    if collections and alias and tf.executing_eagerly():
        # Eager collections live in a global graph for the whole process:
        # keep one tensor per alias, the latest call's.
        stripped = alias[:-1] if alias.endswith("/") else alias
        for key in [collections] if isinstance(collections, str) else collections:
            entries = tf.compat.v1.get_collection_ref(key)
            entries[:] = [t for t in entries if stripped not in getattr(t, "aliases", ())]
    return original(collections, alias, outputs)
