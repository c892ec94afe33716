"""TF1 functions written as one call rather than op by op.

* `tf.nn.sparse_softmax_cross_entropy_with_logits` -> the same call (TF1
  reshapes the logits to 2-D and checks shapes around the kernel; TF2's
  function does that itself);
* `tf.nn.dropout` -> `keras.layers.Dropout`, run with the model's
  `training` flag when the TF1 code drops only while training (BERT's
  `dropout()` returns its input at inference);
* TF-Slim's `layer_norm` (`tf.contrib.layers.layer_norm`) ->
  `keras.layers.LayerNormalization` with TF-Slim's epsilon, 1e-12.
"""

from __future__ import annotations

import numbers

import tensorflow as tf

from tf1kit.convert.ir import TRAINING, ExprSpec, LayerSpec
from tf1kit.convert.ops import Expr
from tf1kit.convert.patterns import converts_function
from tf1kit.convert.values import NotConvertible, activation_code

_SLIM_LAYER_NORM_EPSILON = 1e-12  # tf_slim.layers.layer_norm's variance_epsilon


@converts_function("tensorflow.compat.v1.nn.sparse_softmax_cross_entropy_with_logits",
                   "tensorflow.nn.sparse_softmax_cross_entropy_with_logits")
def sparse_softmax_cross_entropy(call, context):
    arguments = call.layer.arguments
    labels, logits = arguments.get("labels"), arguments.get("logits")
    if labels is None or logits is None:
        raise NotConvertible("labels and logits must both be given")

    def emit(args):
        return Expr(f"tf.nn.sparse_softmax_cross_entropy_with_logits("
                    f"labels={args[0].text}, logits={args[1].text})")

    return ExprSpec(emit, [labels, logits], "CrossEntropy")


@converts_function("tensorflow.compat.v1.nn.dropout", "tensorflow.nn.dropout",
                   training_only=True)
def dropout(call, context):
    arguments = call.layer.arguments
    rate = arguments.get("rate")
    if rate is None and arguments.get("keep_prob") is not None:
        keep_prob = arguments["keep_prob"]
        if not isinstance(keep_prob, numbers.Real):
            raise NotConvertible("the keep probability is a tensor, not a number")
        rate = 1.0 - float(keep_prob)
    if not isinstance(rate, numbers.Real):
        raise NotConvertible("the dropout rate is a tensor, not a number")
    args = {"rate": float(rate)}
    noise_shape = arguments.get("noise_shape")
    if noise_shape is not None:
        if tf.is_tensor(noise_shape):
            noise_shape = tf.get_static_value(noise_shape)
        if noise_shape is None:
            raise NotConvertible("a computed noise_shape")
        args["noise_shape"] = tuple(int(d) for d in noise_shape)
    if arguments.get("seed") is not None:
        args["seed"] = int(arguments["seed"])
    scope = call.layer.variable_scope
    return LayerSpec(
        "keras.layers.Dropout", args, short_name="dropout",
        inputs=arguments["x"], scope=f"{scope}/dropout" if scope else "dropout",
        # Called at inference too: the TF1 code always drops.
        training=None if call.binding is TRAINING else True)


@converts_function("tf_slim.layers.layer_norm", "tf_slim.layers.layers.layer_norm",
                   "tf_slim.layer_norm")
def layer_norm(call, context):
    arguments = call.layer.arguments
    inputs = arguments["inputs"]
    rank = inputs.shape.rank
    if rank is None:
        raise NotConvertible("inputs of unknown rank")
    begin_norm = arguments["begin_norm_axis"] % rank
    begin_params = arguments["begin_params_axis"] % rank
    if begin_norm != rank - 1 or begin_params != rank - 1:
        raise NotConvertible(
            "normalization over several axes (begin_norm_axis/begin_params_axis other than "
            "the last axis): Keras' LayerNormalization would give gamma and beta their shape")
    args = {"axis": -1, "epsilon": _SLIM_LAYER_NORM_EPSILON}
    weights = {}
    by_name = {v.name.split(":")[0].rsplit("/", 1)[-1]: v
               for v in getattr(call, "variables_read", [])}
    for name, flag, initializer in (("gamma", "scale", "keras.initializers.Ones()"),
                                    ("beta", "center", "keras.initializers.Zeros()")):
        if not arguments[flag]:
            args[flag] = False
            continue
        variable = by_name.get(name)
        if variable is None:
            raise NotConvertible(f"its {name} variable was not found among the ones it read")
        weights[name] = variable
        code = context.initializer(variable, None, variable.name)
        if code != initializer:
            args[f"{name}_initializer"] = code
        regularizer = context.regularizer(variable)
        if regularizer is not None:
            args[f"{name}_regularizer"] = regularizer
    if not arguments["trainable"]:
        args["trainable"] = False
    spec = LayerSpec("keras.layers.LayerNormalization", args, weights,
                     short_name="layer_norm", inputs=inputs)
    activation = activation_code(arguments["activation_fn"])
    if activation is not None:
        spec.write_call = _then_activation(activation)
    # Named after the scope its variables are in (`LayerNorm`, `LayerNorm_1`).
    for variable in weights.values():
        spec.scope = getattr(variable, "tf1_name", variable.name.split(":")[0]).rsplit("/", 1)[0]
    if not weights:
        outer = call.layer.variable_scope
        spec.scope = f"{outer}/LayerNorm" if outer else "LayerNorm"
    return spec


def _then_activation(name):
    def write(call):
        target = call.chain("x")
        return ([f"{target} = keras.activations.{name}({call.target}({call.arguments[0]}))"],
                [target])
    return write
