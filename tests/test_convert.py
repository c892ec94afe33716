"""`tf1kit.to_keras` on the guide's models (lessons 2-7), TF-Slim's nets and layer zoos.

Each converts completely; the native model computes what the shim computes
through inference, regularization, gradients and three SGD steps in training
mode (atol 1e-5), variable by variable through the weight map; the generated
source is plain Keras and reads like code a person would write; and every
source runs in one fresh process where tf1kit cannot be imported, loads the
converted weights, and survives a `.keras` round trip.
"""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from convert_cases import CASES, LEARNING_RATES, assert_trains_the_same, converted

ALL = list(CASES)


@pytest.mark.parametrize("name", ALL)
def test_converts_completely_with_one_native_weight_per_tf1_variable(name):
    from tf1kit.convert.graph import tf1_name

    layer, _, result = converted(name)
    assert result.complete and result.unsupported == [], result.summary()
    assert result.model is not None
    assert sorted(result.weight_map) == sorted(tf1_name(v, layer.name) for v in layer.weights)
    native_paths = sorted(v.path for v in result.model.weights)
    assert sorted(result.weight_map.values()) == native_paths  # one to one


@pytest.mark.parametrize("name", ALL)
def test_native_model_computes_and_trains_like_the_shim(name):
    layer, inputs, result = converted(name)
    assert_trains_the_same(layer, result.model, result.weight_map, inputs,
                           learning_rate=LEARNING_RATES.get(name, 0.01))


@pytest.mark.parametrize("name", ALL)
def test_source_is_plain_keras(name):
    source = converted(name)[2].source
    for banned in ("compat.v1", "tf1kit", "get_variable", "variable_scope"):
        assert banned not in source, f"{banned!r} in the source of {name}"
    imports = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    assert imports == ["import keras", "import tensorflow as tf"]
    assert max(len(line) for line in source.splitlines()) <= 99


# -- what the code says ---------------------------------------------------------------------

def test_get_variable_dense_becomes_a_dense_layer_named_after_its_scope():
    result = converted("lesson2_projection")[2]
    assert 'keras.layers.Dense(\n            3, kernel_regularizer=keras.regularizers.L2(l2=0.01), ' \
           'name="proj")' in result.source
    assert result.weight_map == {"proj/w": "projection/proj/kernel",
                                 "proj/b": "projection/proj/bias"}
    assert "return self.proj(x)" in result.source


def test_tf1_defaults_are_written_where_keras_differs_or_depends_on_settings():
    source = converted("lesson3_conv_bn_dropout")[2].source
    # The model is named after its TF1 scope, so native paths read net/conv2d/kernel.
    assert 'def __init__(self, name="net", **kwargs):' in source
    assert 'padding="same", data_format="channels_last"' in source
    assert "FusedBatchNormalization(\n            axis=-1, momentum=0.9, epsilon=0.001," in source
    assert 'keras.layers.Flatten(data_format="channels_last", name="flatten")' in source
    assert "self.batch_normalization(x, training=training)" in source
    assert "self.dropout(x, training=training)" in source
    # 2-D batch norm is TF1's plain path: Keras' own layer computes it.
    plain = converted("lesson4_batch_norm_2d")[2].source
    assert "keras.layers.BatchNormalization(\n            axis=-1, momentum=0.5, epsilon=0.001" \
        in plain and "FusedBatchNormalization" not in plain


def test_python_loop_over_scopes_stays_a_loop_of_one_class():
    source = converted("lesson6_tower")[2].source
    assert source.count("class Block(keras.layers.Layer)") == 1
    assert "for block in self.blocks:\n            x = block(x)" in source
    assert 'self.gain = self.add_weight(\n            name="gain", shape=(), ' \
           "initializer=keras.initializers.Constant(value=2.0))" in source


def test_raw_weights_become_layers_or_weights_of_their_scope():
    source = converted("raw_zoo")[2].source
    assert "self.conv = keras.layers.Conv2D(" in source
    assert "self.depthwise = keras.layers.DepthwiseConv2D(" in source
    assert "self.logits = keras.layers.Dense(" in source
    # gamma is read twice: a weight of the layer named after its scope, which
    # also runs the ops that read it.
    assert 'self.gamma = self.add_weight(\n            name="gamma", shape=(8,)' in source
    assert "return inputs * self.gamma + tf.reduce_mean(self.gamma)" in source
    assert "2.0 - (x - 1.0) / 4.0 - (0.25 - x)" in source


def test_layers_written_out_one_by_one_do_not_become_a_loop():
    # dense and dense_1 are numbered, but written on two lines of the TF1 code.
    source = converted("lesson5_nested")[2].source
    assert "for " not in source
    assert "self.dense_1 = keras.layers.Dense(3" in source


def test_resnet_blocks_are_loops_and_units_share_classes():
    source = converted("resnet_v1_50")[2].source
    assert "for block in self.blocks:\n            x = block(x, training=training)" in source
    assert source.count("keras.Sequential(") == 4
    classes = [line.split("(")[0][len("class "):] for line in source.splitlines()
               if line.startswith("class ")]
    assert classes == ["FusedBatchNormalization", "Conv2DBatchNormRelu", "Conv2DBatchNorm",
                       "BottleneckV1", "BottleneckV1B", "BottleneckV1C", "ResNet50"]
    assert "momentum=0.997, epsilon=1e-05" in source
    # slim.l2_regularizer(1e-4) is scale * sum(w ** 2) / 2.
    assert "kernel_regularizer=keras.regularizers.L2(l2=5e-05)" in source
    assert 'tf.pad(images, [[0, 0], [3, 3], [3, 3], [0, 0]])' in source
    # slim names its pools by a name scope; they are named after it.
    assert "self.pool1 = keras.layers.MaxPooling2D(" in source
    assert "self.shortcut = keras.layers.MaxPooling2D(" in source
    weight_map = converted("resnet_v1_50")[2].weight_map
    assert weight_map["resnet_v1_50/block1/unit_1/bottleneck_v1/conv1/weights"] == \
        "resnet_v1_50/block1/unit_1/conv1/conv2d/kernel"


def test_inception_mixed_blocks_share_a_class_with_their_widths_as_arguments():
    source = converted("inception_v1")[2].source
    assert source.count("class Mixed(keras.layers.Layer)") == 1
    assert source.count(" = Mixed(\n") == 8  # Mixed_5b differs (its Conv2d_0a_3x3)
    assert "return tf.concat([branch_0, branch_1, branch_2, x], axis=3)" in source
    assert "def __init__(\n        self, Branch_0_filters," in source


def _creation_order(result, inputs):
    """TF1 names of a fresh native model's weights, in the order it creates them."""
    import tensorflow as tf
    from tf1kit.convert.weights import execute

    created = []

    def note(next_creator, **kwargs):
        variable = next_creator(**kwargs)
        created.append(variable)
        return variable

    with tf.variable_creator_scope(note):
        model = execute(result.source, result.class_name)()
        model(inputs)
    path_of = {id(w.value): w.path for w in model.weights}
    tf1_of = {path: name for name, path in result.weight_map.items()}
    return [tf1_of[path_of[id(v)]] for v in created if id(v) in path_of]


def test_raw_weights_made_between_layers_are_created_in_tf1_order():
    _, inputs, result = converted("creation_order")
    # The order of creation_order_forward's get_variable calls and layers.
    assert _creation_order(result, inputs) == [
        "mix/first/kernel", "mix/first/bias", "mix/gain", "mix/inner/proj/kernel",
        "mix/inner/proj/bias", "mix/inner/shift", "mix/inner/mixer/kernel",
        "mix/inner/mixer/bias", "mix/table", "mix/last/kernel", "mix/last/bias"]
    source = result.source
    # The layers TF1 made first are built with their recorded input shapes before
    # add_weight, as Keras' composite layers do; the rest build on their call.
    assert "self.proj.build((None, 4))\n        self.shift = self.add_weight(" in source
    # `inner` is built before `table`: all of it, mixer included.
    assert "self.mixer.build((None, 3))\n\n    def call" in source
    assert ("self.first.build((None, 5))\n        self.gain = self.add_weight(" in source
            and "self.inner.build((None, 4))\n        self.table = self.add_weight(" in source)
    assert "self.last.build" not in source
    # The model's build ends with one call on zeros: a .keras file loads built.
    assert "self.call(tf.zeros([d or 1 for d in input_shape], tf.float32))" in source
    bert = converted("bert_encoder")[2].source
    assert "self.word_embeddings.build((None, 6, 1))\n" \
           "        self.token_type_embeddings.build((None, 2))\n" \
           "        self.position_embeddings = self.add_weight(" in bert


@pytest.mark.parametrize("name", [n for n in ALL if n not in ("resnet_v1_50", "inception_v1")])
def test_native_weights_are_created_in_the_order_tf1_made_them(name):
    # The shim's store keeps TF1's creation order; within one Keras layer the
    # order is Keras' own (LayerNormalization: gamma before beta).
    from tf1kit.convert.graph import tf1_name
    from tf1kit.decorator import find_store

    layer, inputs, result = converted(name)
    # The layer's store, and those of decorated layers it holds (lesson 5's inner).
    held = [v for v in vars(layer).values() if isinstance(v, keras.layers.Layer)]
    stores = [find_store(sub) for sub in [layer, *held]]
    tf1_order = [tf1_name(v, layer.name) for store in stores if store is not None
                 for v in store.variables_by_name.values()]
    created = [n for n in _creation_order(result, inputs) if n in tf1_order]
    expected = [n for n in tf1_order if n in created]
    owner = lambda names: [result.weight_map[n].rsplit("/", 1)[0] for n in names]  # noqa: E731
    assert owner(created) == owner(expected)


# -- the source alone -------------------------------------------------------------------------

_FRESH_PROCESS = textwrap.dedent('''
    import json, sys
    import numpy as np


    class RefuseTf1kit:
        def find_spec(self, name, path=None, target=None):
            if name == "tf1kit" or name.startswith("tf1kit."):
                raise ImportError("tf1kit is not importable here")


    sys.meta_path.insert(0, RefuseTf1kit())
    import keras
    import tensorflow as tf

    cases = json.load(open(sys.argv[1]))
    report = {}
    for name, case in cases.items():
        namespace = {}
        exec(compile(open(case["source"]).read(), case["source"], "exec"), namespace)
        model = namespace[case["class_name"]]()
        with np.load(case["inputs"]) as arrays:
            inputs = {key: arrays[key] for key in arrays.files}
        if list(inputs) == ["array"]:
            inputs = inputs["array"]
        kwargs = {"training": False} if case["training"] else {}
        model(inputs, **kwargs)
        model.load_weights(case["weights"])
        expected = np.load(case["expected"])
        loaded = np.abs(np.asarray(model(inputs, **kwargs)) - expected).max()
        model.save(case["keras_file"])
        reloaded = keras.saving.load_model(case["keras_file"])
        round_trip = np.abs(np.asarray(reloaded(inputs, **kwargs)) - expected).max()
        report[name] = {"loaded": float(loaded), "round_trip": float(round_trip),
                        "class": type(reloaded).__name__}
    report["_tf1kit_imported"] = any(m.split(".")[0] == "tf1kit" for m in sys.modules)
    json.dump(report, open(sys.argv[2], "w"))
''')


def test_generated_sources_run_alone_load_weights_and_survive_keras_files(tmp_path):
    """One fresh process for every model: only keras and tensorflow importable."""
    import inspect

    cases = {}
    for name in ALL:
        layer, inputs, result = converted(name)
        training = "training" in inspect.signature(layer.call).parameters
        kwargs = {"training": False} if training else {}
        paths = {key: str(tmp_path / f"{name}.{key}") for key in ("source", "keras_file")}
        paths["source"] += ".py"
        paths["keras_file"] += ".keras"
        paths["inputs"] = str(tmp_path / f"{name}_inputs.npz")
        paths["expected"] = str(tmp_path / f"{name}_expected.npy")
        paths["weights"] = str(tmp_path / f"{name}.weights.h5")
        with open(paths["source"], "w") as f:
            f.write(result.source)
        arrays = dict(inputs) if isinstance(inputs, dict) else {"array": inputs}
        np.savez(paths["inputs"], **{key: np.asarray(value) for key, value in arrays.items()})
        np.save(paths["expected"], np.asarray(result.model(inputs, **kwargs)))
        result.save_weights(paths["weights"])
        cases[name] = dict(paths, class_name=result.class_name, training=training)
    spec, out = tmp_path / "cases.json", tmp_path / "report.json"
    spec.write_text(json.dumps(cases))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("PYTHONPATH", None)
    process = subprocess.run([sys.executable, "-c", _FRESH_PROCESS, str(spec), str(out)],
                             env=env, capture_output=True, text=True, timeout=900,
                             cwd=str(tmp_path))
    assert process.returncode == 0, process.stderr[-5000:]
    report = json.loads(out.read_text())
    assert report.pop("_tf1kit_imported") is False
    for name in ALL:
        assert report[name]["loaded"] <= 1e-5, (name, report[name])
        assert report[name]["round_trip"] <= 1e-5, (name, report[name])
        assert report[name]["class"] == converted(name)[2].class_name
