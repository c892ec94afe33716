"""The report as data: stable JSON, failing worlds reported (not raised),
argument errors, dropout, input structures, the user's objects left alone,
and the widget / HTML it renders to."""

import json

import ipywidgets
import keras
import numpy as np
import pytest
import tensorflow as tf

import tf1kit
from tf1kit.verify import stages
from tf1kit.verify.view import ReportWidget, divergence_series
from verify_models import NativeNet, TF1Net, batch

tf1kit.install()
v1 = tf.compat.v1
X = batch()


@pytest.fixture(scope="module")
def failing_report():
    return tf1kit.verify(TF1Net(), X, native=NativeNet(momentum=0.9), steps=2)


# -- JSON -----------------------------------------------------------------------

def test_json_is_the_same_for_the_same_run(failing_report):
    again = tf1kit.verify(TF1Net(), X, native=NativeNet(momentum=0.9), steps=2)
    assert again.to_json() == failing_report.to_json()
    assert again.timings != failing_report.timings  # timings exist, outside the JSON


def test_json_content_and_shape(failing_report):
    data = json.loads(failing_report.to_json())
    assert data["schema"] == "tf1kit.verify/1"
    assert sorted(data) == ["divergences", "failures", "name_matches", "not_compared", "notes",
                            "ok", "rows", "schema", "settings", "stages", "worlds"]
    assert data["ok"] is False
    assert data["stages"] == ["variables", "initial", "forward_eval", "regularization",
                              "forward_train", "moving_stats", "gradients", "optimizer",
                              "step_1", "step_2"]
    assert data["settings"] == {
        "atol": 1e-05, "layer": "TF1Net", "loss": "mean of squares of the outputs",
        "graph_rewrites": "arithmetic optimizer off in graph worlds (sums in the order the "
                          "code builds them)",
        "native": "NativeNet", "optimizer": "sgd (learning_rate=0.01)",
        "reference": "tf1_graph", "rtol": 1e-05, "steps": 2}
    for row in data["rows"]:
        assert {"stage", "name", "world", "ok", "max_abs_diff", "max_rel_diff"} <= set(row)
    excess = [row["excess"] if row["excess"] is not None else float("inf")
              for row in data["failures"]]
    assert excess == sorted(excess, reverse=True) and len(excess) == 6
    # Numbers are rounded to 4 significant digits, so float noise cannot flip a diff.
    for row in data["rows"]:
        for key in ("max_abs_diff", "max_rel_diff"):
            if row[key]:
                assert float(f"{row[key]:.4g}") == row[key]
    assert "0x" not in failing_report.to_json()


def test_failures_name_stage_and_are_worst_first(failing_report):
    worst = failing_report.failures[0]
    assert worst["world"] == "native" and worst["name"].startswith("net/bn/moving_")
    assert failing_report.first_divergence == {"net/bn/moving_mean": "moving_stats",
                                               "net/bn/moving_variance": "moving_stats"}
    summary, worst_line = str(failing_report).splitlines()[:2]
    assert summary == (
        f"verify: FAILED - 6 of {len(failing_report.rows)} comparisons differ; first "
        "divergence: net/bn/moving_mean at stage moving_stats (native)")
    # Worst first: two steps of the wrong momentum have drifted furthest.
    assert worst_line.startswith("  [step_2] net/bn/moving_") and " in native: max |diff| " in (
        worst_line)


# -- worlds that fail -------------------------------------------------------------

class EagerOnlyCode(keras.layers.Layer):
    """`.numpy()` needs eager execution: a TF1 graph cannot run this."""

    @tf1kit.track_tf1_style_variables
    def call(self, x, training=False):
        scale = float(np.asarray(x).std())
        return v1.layers.dense(x * scale, 2)


def test_a_world_that_fails_is_reported_not_raised():
    report = tf1kit.verify(EagerOnlyCode(), X, steps=1)
    assert not report.ok
    world = report.worlds["tf1_graph"]
    assert world["ran"] is False and world["failed_stage"] == "initial"
    assert "NotImplementedError" in world["error"] or "numpy" in world["error"].lower()
    assert report.settings["reference"] == "shim_eager"
    # tf.function hands the call symbolic inputs, as a TF1 graph does: it fails too,
    # and nothing is left to compare with the reference.
    assert report.worlds["shim_function"]["failed_stage"] == "initial"
    assert report.rows == []
    assert {"what": "world tf1_graph", "world": "tf1_graph",
            "why": f"failed at stage initial: {world['error']}"} in report.not_compared
    assert "Traceback" in report.tracebacks["tf1_graph"]
    with pytest.raises(AssertionError, match="world tf1_graph failed at stage initial"):
        tf1kit.assert_equivalent(EagerOnlyCode(), X, steps=1)


def test_assert_equivalent_returns_the_report_when_ok():
    report = tf1kit.assert_equivalent(TF1Net(), X, native=NativeNet(), steps=1)
    assert report.ok


@pytest.mark.parametrize("arguments, error, message", [
    ({"steps": -1}, ValueError, "steps must be a whole number"),
    ({"optimizer": "rmsprop"}, ValueError, "optimizer='rmsprop' is not known"),
    ({"optimizer": (1, 2)}, TypeError, "optimizer must be"),
    ({"name_map": 3}, TypeError, "name_map must be a dict"),
    ({"loss": "mse"}, TypeError, "loss must be callable"),
    ({"rtol": -1.0}, ValueError, "rtol must be a number >= 0"),
    ({"native": "NativeNet"}, TypeError, "native must be a Keras layer"),
    ({"inputs": {"a": X, "b": "text"}}, TypeError, "inputs at 'b' must hold numbers"),
])
def test_bad_arguments_fail_before_anything_runs(arguments, error, message):
    layer = TF1Net()
    arguments = {"inputs": X, **arguments}
    with pytest.raises(error, match=message):
        tf1kit.verify(layer, **arguments)
    assert not layer.built and layer.weights == []


# -- the user's objects ------------------------------------------------------------

def test_users_layers_keep_their_values():
    layer, native = TF1Net(), NativeNet()
    layer(X), native(X)
    before = [v.numpy().copy() for v in layer.weights + native.weights]
    report = tf1kit.verify(layer, X, native=native)
    assert report.ok, str(report)
    after = [v.numpy() for v in layer.weights + native.weights]
    for old, new in zip(before, after):
        np.testing.assert_array_equal(old, new)


class ModuleNet(tf.Module):
    """A tf.Module rewrite: no config to rebuild it from."""

    def __init__(self):
        super().__init__()
        self.net = NativeNet(name="net")

    def __call__(self, x, training=False):
        return self.net(x, training=training)

    @property
    def losses(self):  # what the rewrite's training loop adds to its loss
        return self.net.losses


def test_an_object_that_cannot_be_rebuilt_is_used_and_restored():
    native = ModuleNet()
    native(X)
    native.net.bn.moving_mean.assign(np.full(6, 0.5, "float32"))
    before = [v.numpy().copy() for v in native.net.weights]
    report = tf1kit.verify(TF1Net(), X, native=native)
    for old, variable in zip(before, native.net.weights):
        np.testing.assert_array_equal(old, variable.numpy())
    assert report.worlds["native"]["drew_initial_values"] is False
    assert any(item["what"] == "initial values in native" for item in report.not_compared)
    # Later stages start from the TF1 values copied in: equal again.
    assert report.ok, str(report)
    assert any(note.startswith("ModuleNet was used itself (ModuleNet is a tf.Module")
               for note in report.notes)


def test_a_factory_rebuilds_what_get_config_cannot():
    report = tf1kit.verify(TF1Net(), X, native=ModuleNet)
    assert report.ok and report.worlds["native"]["drew_initial_values"]


# -- dropout and input structures ----------------------------------------------------

class DropoutNet(keras.layers.Layer):
    @tf1kit.track_tf1_style_variables
    def call(self, x, training=False):
        h = v1.layers.dense(x, 5, name="hidden")
        h = v1.layers.dropout(h, rate=0.5, training=training)
        return v1.layers.dense(h, 2, name="out")


class NativeDropoutNet(keras.layers.Layer):
    def __init__(self, rate=0.5, **kwargs):
        super().__init__(**kwargs)
        self.hidden = keras.layers.Dense(5, name="hidden")
        self.dropout = keras.layers.Dropout(rate)
        self.out = keras.layers.Dense(2, name="out")

    def call(self, x, training=False):
        return self.out(self.dropout(self.hidden(x), training=training))


def test_dropout_runs_disabled_says_so_and_compares_rates():
    report = tf1kit.verify(DropoutNet(), X, native=NativeDropoutNet(), steps=1)
    assert report.ok, str(report)
    assert any(note.startswith("Dropout ran disabled in every world") for note in report.notes)
    assert {"what": "dropout masks", "world": "all",
            "why": "masks differ between worlds; dropout ran disabled and its rates were "
                   "compared"} in report.not_compared
    rates = [row for row in report.rows if row["name"] == "dropout[0].rate"]
    assert {row["world"] for row in rates} == {"shim_eager", "shim_function", "native"}


def test_a_different_dropout_rate_is_caught():
    report = tf1kit.verify(DropoutNet(), X, native=NativeDropoutNet(rate=0.3), steps=1)
    assert report.first_divergence == {"dropout[0].rate": stages.FORWARD_TRAIN}


class TwoInputs(keras.layers.Layer):
    @tf1kit.track_tf1_style_variables
    def call(self, x, y, training=False):
        return v1.layers.dense(tf.concat([x, y], axis=-1), 2, name="joined")


class DictInput(keras.layers.Layer):
    @tf1kit.track_tf1_style_variables
    def call(self, features, training=False):
        return {"sum": v1.layers.dense(features["a"] + features["b"], 2, name="summed"),
                "a": features["a"] * 2.0}


def test_tuple_inputs_go_to_separate_arguments():
    report = tf1kit.verify(TwoInputs(), (X, X[:, :2]), steps=1)
    assert report.ok and report.worlds["tf1_graph"]["variables"] == 2


def test_dict_inputs_and_outputs():
    report = tf1kit.verify(DictInput(), {"a": X, "b": X + 1}, steps=1)
    assert report.ok, str(report)
    assert {row["name"] for row in report.rows if row["stage"] == stages.FORWARD_EVAL} == {
        "output/a", "output/sum"}


# -- rendering -------------------------------------------------------------------

def test_widget_is_built_from_the_data_alone(failing_report):
    data = json.loads(failing_report.to_json())
    view = ReportWidget(data)
    assert isinstance(view.widget, ipywidgets.VBox)
    summary, table, plot, notes = view.widget.children
    assert isinstance(summary, ipywidgets.HTML)
    assert f"FAILED: 6 of {len(data['rows'])} comparisons differ" in summary.value
    assert "net/bn/moving_mean" in table.value and "bn/moving_mean" in table.value
    assert isinstance(plot, ipywidgets.Image) and bytes(plot.value).startswith(b"\x89PNG")
    assert "TF-Slim" in notes.value  # the TF1 world's note
    series = divergence_series(data)
    assert list(series) == ["net/bn/moving_mean", "net/bn/moving_variance"]
    assert [stage for stage, _ in series["net/bn/moving_mean"]["native"]] == [
        "initial", "step_1", "step_2"]


def test_ok_report_shows_counts_and_no_plot():
    report = tf1kit.verify(TF1Net(), X, native=NativeNet(), steps=1)
    view = ReportWidget(report.to_dict())
    assert "OK: " in view.summary.value
    assert "comparisons that agree, per stage and world" in view.table.value
    assert view.plot.layout.display == "none"
    # Its HTML view has no image either (an empty <img> renders as a broken picture).
    html = report._repr_mimebundle_()["text/html"]
    assert "<img" not in html and "comparisons that agree" in html


def test_mime_bundle_has_the_widget_and_an_html_fallback(failing_report):
    bundle = failing_report._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"] == str(failing_report)
    assert "<table>" in bundle["text/html"] and "data:image/png;base64," in bundle["text/html"]
    assert failing_report._repr_html_() == bundle["text/html"]



def test_names_and_notes_stay_left_aligned_under_jupyterlabs_table_style(failing_report):
    """JupyterLab (and nbconvert's HTML) right-align every output table cell
    with `:not(.jp-RenderedMarkdown).jp-RenderedHTMLCommon td`; the report's
    name and note columns must still read left-aligned in a real browser."""
    from playwright.sync_api import sync_playwright

    lab_rule = (":not(.jp-RenderedMarkdown).jp-RenderedHTMLCommon td, "
                ":not(.jp-RenderedMarkdown).jp-RenderedHTMLCommon th { text-align: right; }")
    page_html = (f"<style>{lab_rule}</style><div class='jp-RenderedHTMLCommon'>"
                 f"{failing_report._repr_html_()}</div>")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        try:
            page = browser.new_page()
            page.set_content(page_html)
            align = page.evaluate("""() => Object.fromEntries(
                ['td.tf1kit-name', 'th.tf1kit-name', 'td.tf1kit-note', 'td:first-child',
                 'td:nth-child(4)'].map(s => [s, getComputedStyle(
                    document.querySelector('.tf1kit-verify table ' + s)).textAlign]))""")
        finally:
            browser.close()
    assert align == {"td.tf1kit-name": "left", "th.tf1kit-name": "left",
                     "td.tf1kit-note": "left", "td:first-child": "left",
                     "td:nth-child(4)": "right"}  # numbers stay right-aligned

# -- name_map ---------------------------------------------------------------------

class TwoDense(keras.layers.Layer):
    @tf1kit.track_tf1_style_variables
    def call(self, x, training=False):
        return v1.layers.dense(v1.layers.dense(x, 4, name="a"), 4, name="b")


class TwoDenseRenamed(keras.layers.Layer):
    """The rewrite names its layers differently and creates `second` first."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.second = keras.layers.Dense(4, name="second")
        self.first = keras.layers.Dense(4, name="first")

    def call(self, x, training=False):
        return self.second(self.first(x))


RENAMES = {"a/kernel": "first/kernel", "a/bias": "first/bias",
           "b/kernel": "second/kernel", "b/bias": "second/bias"}


def test_name_map_overrides_the_pairing():
    guessed = tf1kit.verify(TwoDense(), X, native=TwoDenseRenamed(), steps=1)
    # Same kinds and shapes, no common scope: paired in listing order, which
    # here is not the calling order.
    assert {"tf1": "a/kernel", "native": "second/kernel",
            "how": "scope path and shape"} in guessed.name_matches
    assert not guessed.ok
    mapped = tf1kit.verify(TwoDense(), X, native=TwoDenseRenamed(), steps=1, name_map=RENAMES)
    assert mapped.ok, str(mapped)
    assert {m["how"] for m in mapped.name_matches} == {"name_map"}
    with_function = tf1kit.verify(TwoDense(), X, native=TwoDenseRenamed(), steps=1,
                                  name_map=lambda name: RENAMES[name])
    assert with_function.ok


def test_name_map_naming_nothing_is_reported():
    report = tf1kit.verify(TwoDense(), X, native=TwoDenseRenamed(), steps=1,
                           name_map={**RENAMES, "c/kernel:0": "first/kernel",
                                     "a/bias": "third/bias"})
    problems = {row["name"]: row["note"] for row in report.failures
                if row["stage"] == stages.VARIABLES}
    assert problems["c/kernel:0"] == "name_map names no TF1 variable"
    assert problems["a/bias"] == "name_map points at 'third/bias', which is not a native variable"


# -- interrupted -------------------------------------------------------------------

def test_interrupting_verify_puts_everything_back():
    from tensorflow.python.ops import nn_ops

    from keras.src.backend.common import global_state
    from tensorflow.python.eager import context

    class Interrupted(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x, training=False):
            if not tf.compat.v1.executing_eagerly_outside_functions():
                raise KeyboardInterrupt  # Ctrl-C while the TF1 graph is built
            return v1.layers.dense(x, 2)

    layer = Interrupted()
    dropout, names = nn_ops._dropout, global_state.get_global_attribute("object_name_uids")
    tf.random.set_seed(1234)
    with pytest.raises(KeyboardInterrupt):
        tf1kit.verify(layer, X)
    assert v1.layers is tf1kit.layers
    assert tf.__internal__.tf2.enabled() and tf.compat.v2.__internal__.tf2.enabled()
    assert nn_ops._dropout is dropout
    assert global_state.get_global_attribute("object_name_uids") is names
    assert context.global_seed() == 1234  # set by the test, before verify
    assert tf1kit.verify(TwoDense(), X, steps=1).ok  # and verify still works
    assert context.global_seed() == 1234
    tf.random.set_seed(None)


def test_a_tf1_world_failing_later_stays_the_reference_for_what_it_computed():
    class EagerOnlyWhenTraining(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x, training=False):
            if training:
                x = x * float(np.asarray(x).std())
            return v1.layers.dense(x, 2)

    report = tf1kit.verify(EagerOnlyWhenTraining(), X, steps=1)
    assert report.worlds["tf1_graph"]["failed_stage"] == stages.FORWARD_TRAIN
    assert report.settings["reference"] == "tf1_graph"
    compared = {row["stage"] for row in report.rows}
    assert compared == {stages.VARIABLES, stages.INITIAL, stages.FORWARD_EVAL,
                        stages.REGULARIZATION}
    assert report.failures == [] and not report.ok
    assert report.summary().startswith("verify: FAILED - worlds that did not run: tf1_graph, "
                                       "shim_function; "
                                       f"the {len(report.rows)} comparisons made agree")


def test_an_unbuilt_object_verify_must_use_is_left_as_first_built():
    native = ModuleNet()
    report = tf1kit.verify(TF1Net(), X, native=native, steps=2)
    # Its layers were made outside verify's determinism scope: their draws are
    # Keras' own, so initial values are not compared; the rest starts from TF1's.
    assert report.ok, str(report)
    assert report.worlds["native"]["drew_initial_values"] is False
    # Built by verify, then given back the values it was built with, not the
    # trained ones: the moving statistics are still where batch norm starts.
    np.testing.assert_array_equal(native.net.bn.moving_mean.numpy(), np.zeros(6))
    np.testing.assert_array_equal(native.net.bn.moving_variance.numpy(), np.ones(6))


def test_names_do_not_depend_on_what_the_process_built_before():
    """Eagerly, TF1 numbers auto-named scopes for the whole process; a TF1
    graph starts at `dense` again. Each verify world starts afresh as well."""
    for _ in range(3):
        tf1kit.layers.dense(tf.ones([1, 2]), 2)  # eager, outside any decorated call

    class AutoNamed(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x, training=False):
            return v1.layers.dense(v1.layers.dense(x, 3), 2)

    report = tf1kit.verify(AutoNamed(), X, steps=1)
    assert report.ok, str(report)
    assert sorted({row["name"] for row in report.rows if row["stage"] == stages.VARIABLES}) == [
        "dense/bias", "dense/kernel", "dense_1/bias", "dense_1/kernel"]
    assert tf.compat.v1.get_variable_scope().name == ""


def test_a_built_tf1_module_is_checked_in_place():
    class TF1Module(tf.Module):
        @tf1kit.track_tf1_style_variables
        def __call__(self, x, training=False):
            return v1.layers.dense(x, 2, name="d")

    module = TF1Module()
    module(X)
    before = {v.name: v.numpy().copy() for v in module.trainable_variables}
    report = tf1kit.verify(module, X, steps=2)
    assert report.ok, str(report)
    # The TF1 world ran the module's code in its own graph; the shim worlds
    # used the module itself, from the TF1 world's values.
    assert report.worlds["tf1_graph"]["drew_initial_values"]
    assert [item["what"] for item in report.not_compared] == [
        "initial values in shim_eager", "initial values in shim_function"]
    assert {v.name: v.numpy() for v in module.trainable_variables}.keys() == before.keys()
    for variable in module.trainable_variables:
        np.testing.assert_array_equal(variable.numpy(), before[variable.name])


def test_eager_collections_are_left_as_they_were():
    class Collecting(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, x, training=False):
            out = v1.layers.dense(x, 2, name="d")
            v1.add_to_collection("verify_test_outputs", out)
            v1.add_to_collection("verify_test_new_key", out)
            return out

    graph = tf.compat.v1.get_default_graph()
    v1.add_to_collection("verify_test_outputs", tf.constant(1.0))
    keys = set(graph.get_all_collection_keys())
    try:
        report = tf1kit.verify(Collecting(), X, steps=1)
        assert report.ok, str(report)
        assert len(v1.get_collection("verify_test_outputs")) == 1
        assert set(graph.get_all_collection_keys()) == keys
    finally:
        graph.clear_collection("verify_test_outputs")


def test_the_function_world_passes_symbolic_inputs_as_a_tf1_graph_does():
    class ReadsTensorNames(keras.layers.Layer):
        # BERT's get_shape_list reads `tensor.name` of its inputs: fine on
        # placeholders and traced tensors, an error on an EagerTensor in a graph.
        @tf1kit.track_tf1_style_variables
        def call(self, x, training=False):
            if not tf.executing_eagerly():
                assert x.name
            return v1.layers.dense(x, 2)

    report = tf1kit.verify(ReadsTensorNames(), X, steps=1)
    assert report.worlds["shim_function"]["ran"] is True, report.tracebacks
    assert report.ok, report


def test_sparse_gradients_of_embedding_lookups_are_compared_densely():
    class Embed(keras.layers.Layer):
        @tf1kit.track_tf1_style_variables
        def call(self, ids, training=False):
            table = v1.get_variable("table", [5, 3])
            return v1.nn.embedding_lookup(table, ids)

    ids = np.array([[0, 2], [2, 4]], np.int32)
    report = tf1kit.verify(Embed(), ids, steps=2)
    assert report.ok, report
    gradient_rows = [row for row in report.rows if row["stage"] == stages.GRADIENTS]
    assert {row["world"] for row in gradient_rows} >= {"shim_eager", "shim_function"}


def test_a_built_module_holding_stateful_submodules_is_refused_by_the_tf1_world():
    # Its sub-module's variable lives in eager code; a TF1 graph cannot share it.
    class Scale(tf.Module):
        def __init__(self):
            super().__init__()
            self.factor = tf.Variable(2.0)

    class Holder(tf.Module):
        def __init__(self):
            super().__init__()
            self.scale = Scale()

        @tf1kit.track_tf1_style_variables
        def __call__(self, x, training=False):
            return v1.layers.dense(x * self.scale.factor, 2, name="d")

    module = Holder()
    module(X)
    report = tf1kit.verify(module, X, steps=1)
    world = report.worlds["tf1_graph"]
    assert not report.ok and world["ran"] is False
    assert "holds layers or modules with state" in world["error"]
    assert "lambda: MyLayer(...)" in world["error"]
