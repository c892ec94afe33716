"""The real-model zoo's shared source (no tests here).

`MODELS` is TF1 source that runs unchanged in two worlds: in a TF1 graph in
the oracle process (`GRAPH_RUNNER`, where tf1kit cannot be imported) and
under tf1kit in the test process (test_zoo.py). The model code comes from
the installed packages (`tf_slim.nets`, `bert.modeling`); only the edits a
migrating user makes are applied, at run time, as listed substitutions on
the installed source (`load_migrated`). The LSTM language model is written
here in the classic TF1 style.

Each entry of `ZOO` gives example `inputs()` (numpy, fixed seed) and
`build(inputs, training)`, which returns the tensor the loss is the mean
square of (or, for the language model, the per-sequence loss itself).
Dropout is off (keep probability 1) wherever a model has it, so training
steps compare exactly; the cells' dropout is compared in
tests/test_rnn_differential.py under the determinism tool.
"""

MODELS = '''
import importlib.util
import types

rc = v1.nn.rnn_cell
BATCH, CLASSES, LEARNING_RATE = 2, 5, 0.01
ZOO = {}


def load_migrated(module_name, edits=()):
    """Executes an installed module's source after a migrating user's edits."""
    path = importlib.util.find_spec(module_name).origin
    with open(path) as f:
        source = f.read()
    for old, new in edits:
        if old not in source:
            raise AssertionError(f"{module_name}: the edit {old!r} no longer applies")
        source = source.replace(old, new)
    module = types.ModuleType(module_name)
    module.__file__ = path
    exec(compile(source, path, "exec"), module.__dict__)
    return module


def model(name, inputs, loss="mean_square"):
    def register(build):
        ZOO[name] = {"inputs": inputs, "build": build, "loss": loss}
        return build
    return register


def images(size, batch=1):
    return lambda: np.random.RandomState(0).uniform(-1, 1, (batch, size, size, 3)).astype("float32")


def loss_of(name, prediction):
    if ZOO[name]["loss"] == "mean":
        return tf.reduce_mean(prediction)
    return tf.reduce_mean(tf.square(prediction))


# -- tf-slim nets, as installed (they already run on TF2 and need no edits) --
import tf_slim as slim
from tf_slim.nets import alexnet, inception_v1, inception_v2, inception_v3, resnet_v1, resnet_v2, vgg


@model("resnet_v1_50", images(64))
def build_resnet_v1_50(x, training):
    with slim.arg_scope(resnet_v1.resnet_utils.resnet_arg_scope()):
        return resnet_v1.resnet_v1_50(x, CLASSES, is_training=training, scope="resnet_v1_50")[0]


@model("resnet_v2_50", images(64))
def build_resnet_v2_50(x, training):
    with slim.arg_scope(resnet_v2.resnet_utils.resnet_arg_scope()):
        return resnet_v2.resnet_v2_50(x, CLASSES, is_training=training, scope="resnet_v2_50")[0]


@model("inception_v1", images(224))
def build_inception_v1(x, training):
    with slim.arg_scope(inception_v1.inception_v1_arg_scope()):
        return inception_v1.inception_v1(x, CLASSES, is_training=training,
                                         dropout_keep_prob=1.0, scope="InceptionV1")[0]


@model("inception_v2", images(64))
def build_inception_v2(x, training):
    with slim.arg_scope(inception_v2.inception_v2_arg_scope()):
        return inception_v2.inception_v2(x, CLASSES, is_training=training,
                                         dropout_keep_prob=1.0, scope="InceptionV2")[0]


@model("inception_v3", images(80))
def build_inception_v3(x, training):
    with slim.arg_scope(inception_v3.inception_v3_arg_scope()):
        return inception_v3.inception_v3(x, CLASSES, is_training=training,
                                         dropout_keep_prob=1.0, create_aux_logits=False,
                                         scope="InceptionV3")[0]


@model("vgg_16", images(224))
def build_vgg_16(x, training):
    with slim.arg_scope(vgg.vgg_arg_scope()):
        return vgg.vgg_16(x, CLASSES, is_training=training, dropout_keep_prob=1.0,
                          scope="vgg_16")[0]


@model("alexnet_v2", images(195))
def build_alexnet_v2(x, training):
    with slim.arg_scope(alexnet.alexnet_v2_arg_scope()):
        return alexnet.alexnet_v2(x, CLASSES, is_training=training, dropout_keep_prob=1.0,
                                  scope="alexnet_v2")[0]


# -- BERT's modeling.py from bert-tensorflow, with one migrating edit --------
BERT_EDITS = [
    # tf.contrib is gone; TF-Slim ships its layers (layer_norm among them).
    ("from tensorflow.contrib import layers as contrib_layers",
     "from tf_slim import layers as contrib_layers"),
]
SEQUENCE, VOCABULARY = 6, 30


def bert_inputs():
    rng = np.random.RandomState(0)
    return {"input_ids": rng.randint(0, VOCABULARY, (BATCH, SEQUENCE)).astype("int32"),
            "input_mask": np.array([[1] * 6, [1] * 4 + [0] * 2], "int32"),
            "token_type_ids": np.array([[0] * 3 + [1] * 3] * BATCH, "int32")}


@model("bert", bert_inputs)
def build_bert(features, training):
    modeling = ZOO["bert"].get("module")
    if modeling is None:
        modeling = ZOO["bert"]["module"] = load_migrated("bert.modeling", BERT_EDITS)
    config = modeling.BertConfig(
        vocab_size=VOCABULARY, hidden_size=8, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=16, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
        max_position_embeddings=16, type_vocab_size=2)
    bert = modeling.BertModel(config, is_training=training, scope="bert",
                              input_ids=features["input_ids"],
                              input_mask=features["input_mask"],
                              token_type_ids=features["token_type_ids"])
    return bert.get_pooled_output()


# -- an LSTM language model, classic TF1 style (PTB tutorial layout) --------
STEPS, WORDS, HIDDEN = 5, 20, 8


def token_inputs():
    return np.random.RandomState(0).randint(0, WORDS, (BATCH, STEPS + 1)).astype("int32")


@model("lstm_lm", token_inputs, loss="mean")
def build_lstm_lm(tokens, training, keep_prob=1.0):
    """Returns each sequence's mean cross-entropy: seq2seq.sequence_loss with
    unit weights, averaged over time steps and not over the batch."""
    ids, targets = tokens[:, :-1], tokens[:, 1:]
    keep_prob = keep_prob if training else 1.0
    with v1.variable_scope("Model", initializer=v1.random_uniform_initializer(-0.1, 0.1)):
        embedding = v1.get_variable("embedding", [WORDS, HIDDEN])
        inputs = v1.nn.embedding_lookup(embedding, ids)
        cell = rc.MultiRNNCell([
            rc.DropoutWrapper(rc.LSTMCell(HIDDEN, forget_bias=0.0), output_keep_prob=keep_prob)
            for _ in range(2)])
        state = cell.zero_state(BATCH, tf.float32)
        outputs, state = v1.nn.dynamic_rnn(cell, inputs, initial_state=state)
        softmax_w = v1.get_variable("softmax_w", [HIDDEN, WORDS])
        softmax_b = v1.get_variable("softmax_b", [WORDS])
        logits = tf.matmul(tf.reshape(outputs, [-1, HIDDEN]), softmax_w) + softmax_b
        logits = tf.reshape(logits, [BATCH, STEPS, WORDS])
        crossent = v1.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=logits)
        return tf.reduce_sum(crossent, axis=1) / STEPS
'''

GRAPH_RUNNER = '''
def repair_slim_batch_norm():
    """TF 2.21 breaks slim.batch_norm in a TF1 graph by itself: TF's
    normalization module loads `tf_keras.legacy_tf_layers`, which tf_keras
    ships as `tf_keras.src.legacy_tf_layers`, and `ops.Tensor` is gone. The
    oracle restores both to what TF 1.x had, so slim's batch_norm runs on TF's
    own TF1 batch-normalization layer (tf1kit is absent here)."""
    import sys
    import tf_keras.src.legacy_tf_layers as legacy_layers
    import tf_keras.src.legacy_tf_layers.normalization as legacy_normalization
    from tensorflow.python.framework import ops

    sys.modules.setdefault("tf_keras.legacy_tf_layers", legacy_layers)
    sys.modules.setdefault("tf_keras.legacy_tf_layers.normalization", legacy_normalization)
    if not hasattr(ops, "Tensor"):
        ops.Tensor = tf.Tensor


repair_slim_batch_norm()


def run_in_graph(name):
    """TF 1.x: one inference and one training tower sharing variables, the
    initial values saved with a TF1 Saver, then two SGD steps (with the
    batch-norm updates) from the same batch."""
    spec, values = ZOO[name], ZOO[name]["inputs"]()
    with tf.Graph().as_default(), v1.Session() as sess:
        v1.set_random_seed(7)
        feed_values = values if isinstance(values, dict) else {"x": values}
        placeholders = {key: v1.placeholder(tf.as_dtype(v.dtype), v.shape)
                        for key, v in feed_values.items()}
        inputs = placeholders if isinstance(values, dict) else placeholders["x"]
        inference = spec["build"](inputs, False)
        with v1.variable_scope(v1.get_variable_scope(), reuse=True):
            training = spec["build"](inputs, True)
        loss = loss_of(name, training) + v1.losses.get_regularization_loss()
        variables, trainable = v1.global_variables(), v1.trainable_variables()
        grads = [tf.convert_to_tensor(g) for g in v1.gradients(loss, trainable)]
        with tf.control_dependencies(v1.get_collection(v1.GraphKeys.UPDATE_OPS)):
            step = v1.train.GradientDescentOptimizer(LEARNING_RATE).apply_gradients(
                zip(grads, trainable))
        sess.run(v1.global_variables_initializer())
        saved = v1.train.Saver().save(sess, ARTIFACTS + "/model.ckpt")
        feed = {placeholders[key]: v for key, v in feed_values.items()}
        result_infer = sess.run(inference, feed)
        result_grads, _ = sess.run([grads, step], feed)
        after_one = sess.run(variables)
        sess.run(step, feed)
        after_two = sess.run(variables)
        names = [v.op.name for v in variables]
        # Large arrays go to files the test reads one by one (not through the
        # oracle's pickle, which the test session keeps in memory).
        np.savez(ARTIFACTS + "/grads.npz", **dict(zip([v.op.name for v in trainable], result_grads)))
        np.savez(ARTIFACTS + "/after_two.npz", **dict(zip(names, after_two)))
        trainable_ids = {id(v) for v in trainable}
        moving = [v.op.name for v in variables if id(v) not in trainable_ids]
        return {"checkpoint": saved,
                "shapes": {n: v.shape.as_list() for n, v in zip(names, variables)},
                "infer": result_infer,
                "grads": ARTIFACTS + "/grads.npz",
                "after_one_non_trainable": {n: value for n, value in zip(names, after_one)
                                            if n in moving},
                "after_two": ARTIFACTS + "/after_two.npz"}


result.update(run_in_graph(MODEL))
'''
