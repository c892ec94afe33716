"""Keras 3 integration found on real models: `.keras` files of layers whose
call takes a dict, a tuple or several inputs; sub-layers created lazily in
the call; a tf.Module that embeds a Keras 3 model."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
import keras

import tf1kit

v1 = tf.compat.v1
BATCH, LENGTH, WIDTH = 2, 5, 4
IDS = np.arange(BATCH * LENGTH, dtype=np.int32).reshape(BATCH, LENGTH) % 7
MASK = (IDS > 1).astype(np.float32)
FEATURES = np.linspace(-1, 1, BATCH * WIDTH, dtype=np.float32).reshape(BATCH, WIDTH)


def embed(ids, mask):
    """BERT-like: int ids through an embedding table, masked mean."""
    with v1.variable_scope("embeddings"):
        table = v1.get_variable("word_embeddings", [7, WIDTH])
    vectors = tf.gather(table, ids) * tf.expand_dims(mask, -1)
    return tf.reduce_sum(vectors, 1) / (tf.reduce_sum(mask, 1, keepdims=True) + 1.0)


def dict_forward(inputs):
    with v1.variable_scope("bert"):
        return embed(inputs["input_ids"], inputs["input_mask"])


def tuple_forward(inputs):
    ids, mask = inputs
    with v1.variable_scope("bert"):
        return embed(ids, mask)


def positional_forward(ids, mask, features):
    with v1.variable_scope("bert"):
        pooled = embed(ids, mask)
    with v1.variable_scope("head"):
        w = v1.get_variable("kernel", [WIDTH, 3])
    return tf.matmul(pooled + features, w)


def registered(cls):
    return keras.saving.register_keras_serializable(package="tf1kit_saving_tests")(cls)


@registered
class DictInputs(keras.layers.Layer):
    @tf1kit.track_tf1_style_variables
    def call(self, inputs):
        return dict_forward(inputs)


@registered
class TupleInputs(keras.layers.Layer):
    @tf1kit.track_tf1_style_variables
    def call(self, inputs):
        return tuple_forward(inputs)


@registered
class PositionalInputs(keras.layers.Layer):
    @tf1kit.track_tf1_style_variables
    def call(self, ids, mask, features, training=None):
        return positional_forward(ids, mask, features)


# The same calls on subclassed models: no functional graph to replay, so
# loading must create the variables from the inputs recorded at the first call.
@registered
class DictModel(keras.Model):
    @tf1kit.track_tf1_style_variables
    def call(self, inputs):
        return dict_forward(inputs)


@registered
class TupleModel(keras.Model):
    @tf1kit.track_tf1_style_variables
    def call(self, inputs):
        return tuple_forward(inputs)


@registered
class PositionalModel(keras.Model):
    @tf1kit.track_tf1_style_variables
    def call(self, ids, mask, features, training=None):
        return positional_forward(ids, mask, features)


def functional(layer_class):
    ids = keras.Input((LENGTH,), dtype="int32", name="input_ids")
    mask = keras.Input((LENGTH,), name="input_mask")
    if layer_class is DictInputs:
        return keras.Model({"input_ids": ids, "input_mask": mask},
                           layer_class()({"input_ids": ids, "input_mask": mask}))
    if layer_class is TupleInputs:
        return keras.Model([ids, mask], layer_class()((ids, mask)))
    features = keras.Input((WIDTH,), name="features")
    return keras.Model([ids, mask, features], layer_class()(ids, mask, features))


def feed(layer_class):
    if layer_class is DictInputs:
        return {"input_ids": IDS, "input_mask": MASK}
    if layer_class is TupleInputs:
        return [IDS, MASK]
    return [IDS, MASK, FEATURES]


def perturb(model):
    """Weights that differ from any fresh initialization."""
    for i, v in enumerate(model.weights):
        v.assign(np.random.RandomState(i).uniform(-1, 1, v.shape).astype(
            tf.as_dtype(v.dtype).as_numpy_dtype))


@pytest.mark.parametrize("layer_class", [DictInputs, TupleInputs, PositionalInputs])
def test_keras_file_round_trip_of_a_functional_model(layer_class, tmp_path):
    model = functional(layer_class)
    perturb(model)
    expected = model.predict(feed(layer_class), verbose=0)
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(loaded.predict(feed(layer_class), verbose=0), expected, rtol=1e-6)
    assert sorted(v.name for v in loaded.weights) == sorted(v.name for v in model.weights)


@pytest.mark.parametrize("model_class, layer_class", [
    (DictModel, DictInputs), (TupleModel, TupleInputs), (PositionalModel, PositionalInputs)])
def test_keras_file_round_trip_of_a_subclassed_model(model_class, layer_class, tmp_path):
    """Loading traces the call on the recorded inputs: their structure, their
    shapes and their dtypes (int32 ids stay int32 for the embedding lookup)."""
    model = model_class()
    inputs = feed(layer_class)
    call = ((lambda m: m(inputs)) if layer_class is not PositionalInputs
            else (lambda m: m(*inputs, training=False)))
    call(model)
    perturb(model)
    expected = call(model).numpy()
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    assert sorted(v.name for v in loaded.weights) == sorted(v.name for v in model.weights)
    np.testing.assert_allclose(call(loaded).numpy(), expected, rtol=1e-6)
