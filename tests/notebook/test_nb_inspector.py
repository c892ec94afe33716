"""The inspector's widget state, asserted headless after calls and during fit."""

import gc
import re
import weakref

import numpy as np
import pytest
from IPython.core.error import UsageError

from nb_cells import DENSE, NORMALIZED


@pytest.fixture(scope="module")
def normalized(shell):
    shell.run_cell(NORMALIZED.format(name="Normalized"))
    shell.run_cell("norm_layer = Normalized(name='norm')\n"
                   "norm_inspector = tf1kit.notebook.inspect(norm_layer)\n"
                   "names_before_call = norm_inspector.variable_names()\n"
                   "norm_layer(tf.ones([4, 2]) * [[1.0], [2.0], [3.0], [4.0]], training=True)")
    return shell.user_ns["norm_layer"], shell.user_ns["norm_inspector"]


def test_table_fills_after_first_call(shell, normalized):
    layer, inspector = normalized
    assert shell.user_ns["names_before_call"] == []
    assert inspector.variable_names() == ["dense/kernel", "bn/moving_mean", "bn/moving_variance"]
    kernel = inspector.row("dense/kernel")
    assert kernel.shape == (2, 3) and kernel.trainable and kernel.dtype == "float32"
    np.testing.assert_allclose(kernel.mean, layer.weights[0].numpy().mean(), rtol=1e-6)
    assert kernel.created_in_last_call
    assert not inspector.row("bn/moving_mean").trainable
    html = inspector.table.value
    assert 'data-name="dense/kernel"' in html and "tf1kit-created" in html


def test_second_call_shows_change_and_history(shell, normalized):
    layer, inspector = normalized
    mean_before = inspector.row("bn/moving_mean").mean
    plots_before = inspector.batch_norm_plot.value
    shell.run_cell("norm_layer(tf.ones([4, 2]) * [[5.0], [6.0], [7.0], [8.0]], training=True)")
    row = inspector.row("bn/moving_mean")
    assert row.mean != mean_before and row.change > 0
    assert not row.created_in_last_call
    assert inspector.row("dense/kernel").change == 0
    assert "tf1kit-changed" in inspector.table.value
    # The batch-norm tab is drawn when it is shown (the browser sets selected_index).
    assert inspector.batch_norm.value == "" and bytes(inspector.batch_norm_plot.value) == bytes(
        plots_before)
    inspector.tabs.selected_index = 2
    assert 'data-name="bn"' in inspector.batch_norm.value
    first = bytes(inspector.batch_norm_plot.value)
    assert first.startswith(b"\x89PNG")
    shell.run_cell("norm_layer(tf.ones([4, 2]) * [[1.0], [3.0], [5.0], [7.0]], training=True)")
    drawn = bytes(inspector.batch_norm_plot.value)
    assert drawn.startswith(b"\x89PNG") and drawn != first
    inspector.tabs.selected_index = 0


def test_regularization_losses_per_source_and_total(shell, normalized):
    layer, inspector = normalized
    expected = 0.01 * float(np.sum(np.square(layer.weights[0].numpy())))
    assert inspector.losses.value == ""  # computed only when the tab is shown
    inspector.tabs.selected_index = 1
    [(source, value)] = inspector.regularization
    assert source == "norm: loss 1"
    assert value == pytest.approx(expected, rel=1e-5)
    assert "total" in inspector.losses.value
    inspector.tabs.selected_index = 0


def test_call_log_records_training_flag_and_shapes(shell, normalized):
    _, inspector = normalized
    shell.run_cell("norm_layer(tf.ones([3, 2]))")
    last = inspector.snapshot.calls[-1]
    assert last["training"] is None and last["input_shapes"] == [(3, 2)]
    assert inspector.snapshot.calls[-2]["training"] is True
    inspector.tabs.selected_index = 3
    assert "[3, 2]" in inspector.calls.value
    inspector.tabs.selected_index = 0


def test_inspects_a_model_during_fit_with_callback(shell):
    shell.run_cell('''%%tf1layer Block --args "units=4"
h = tf.compat.v1.layers.dense(inputs, units, name="fc")
h = tf.compat.v1.layers.batch_normalization(h, training=training, name="bn")
tf.compat.v1.layers.dense(h, 1, name="out")
''')
    result = shell.run_cell('''
fit_model = keras.Sequential([keras.Input((3,)), Block(name="block")])
fit_inspector = tf1kit.notebook.inspect(fit_model)
fit_model.compile(optimizer="sgd", loss="mse")
fit_x = np.random.RandomState(0).rand(64, 3).astype("float32")
fit_callback = tf1kit.notebook.InspectorCallback()
moving_mean_before = fit_inspector.row("bn/moving_mean").mean
fit_model.fit(fit_x, fit_x.sum(1, keepdims=True), epochs=2, batch_size=16, verbose=0,
              callbacks=[fit_callback])
''')
    assert result.success, result.error_in_exec
    inspector = shell.user_ns["fit_inspector"]
    assert inspector.variable_names()[:4] == ["fc/kernel", "fc/bias", "bn/gamma", "bn/beta"]
    assert inspector.row("bn/moving_mean").mean != shell.user_ns["moving_mean_before"]
    assert inspector.row("fc/kernel").change > 0
    assert shell.user_ns["fit_callback"].refresh_count >= 1
    assert "fit: finished" in inspector.header.value


def test_thousand_variables_are_paginated(shell):
    shell.run_cell('''%%tf1layer Wide
total = 0.0
for i in range(1000):
    total += tf.reduce_sum(tf.compat.v1.get_variable(f"scope{i // 100}/v{i}", shape=[2]))
inputs * total
''')
    shell.run_cell("wide = Wide()\nwide_inspector = tf1kit.notebook.inspect(wide, page_size=50)\n"
                   "wide(tf.ones([1]))")
    inspector = shell.user_ns["wide_inspector"]
    assert len(inspector.snapshot.rows) == 1000
    assert inspector.table.value.count("<tr class=") == 50
    assert inspector.page_label.value == "page 1 of 20"
    assert inspector.snapshot.rows[50].mean is None  # off screen: not measured
    inspector.next_button.click()
    assert 'data-name="scope0/v50"' in inspector.table.value
    assert inspector.page_label.value == "page 2 of 20"
    assert inspector.snapshot.rows[50].mean is not None  # measured once shown
    inspector.previous_button.click()
    assert inspector.previous_button.disabled


def test_refresh_button_rereads_values(shell, normalized):
    layer, inspector = normalized
    count = inspector.refresh_count
    layer.weights[0].assign(np.full((2, 3), 2.0, "float32"))
    inspector.refresh_button.click()
    assert inspector.refresh_count == count + 1
    assert inspector.row("dense/kernel").mean == pytest.approx(2.0)


def test_plain_decorated_layer_and_module_report_calls(shell):
    result = shell.run_cell('''
class Scale(keras.layers.Layer):
    @tf1kit.track_tf1_style_variables
    def call(self, x):
        return x * tf.compat.v1.get_variable("s", shape=[], initializer=tf.compat.v1.ones_initializer())

class ModuleScale(tf.Module):
    @tf1kit.track_tf1_style_variables
    def __call__(self, x):
        return x * tf.compat.v1.get_variable("m", shape=[], initializer=tf.compat.v1.ones_initializer())

scale, module_scale = Scale(), ModuleScale()
scale_inspector = tf1kit.notebook.inspect(scale)
module_inspector = tf1kit.notebook.inspect(module_scale)
scale(tf.ones([2])); module_scale(tf.ones([2]))
''')
    assert result.success, result.error_in_exec
    assert shell.user_ns["scale_inspector"].variable_names() == ["s"]
    assert shell.user_ns["module_inspector"].variable_names() == ["m"]
    assert isinstance(shell.user_ns["module_scale"], shell.user_ns["ModuleScale"])
    assert len(shell.user_ns["module_inspector"].snapshot.calls) == 1


@pytest.mark.parametrize("expression", ["tf", "keras.layers.Dense(3)", "[1, 2]"])
def test_inspecting_a_non_shim_object_is_a_clear_error(shell, expression):
    result = shell.run_cell(f"%tf1inspect {expression}")
    assert isinstance(result.error_in_exec, UsageError)
    assert "not a layer or module decorated with track_tf1_style_variables" in str(
        result.error_in_exec)
    with pytest.raises(TypeError, match="track_tf1_style_variables"):
        import tf1kit.notebook

        tf1kit.notebook.inspect(shell.ev(expression))


def test_tf1inspect_magic_returns_a_displayable_inspector(shell, normalized):
    result = shell.run_cell("%tf1inspect norm_layer")
    assert result.success, result.error_in_exec
    bundle = result.result._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle


# -- defects of issue 12, items 4 and 5 ----------------------------------------

def test_tf1inspect_options_after_the_expression(shell, normalized):
    result = shell.run_cell("%tf1inspect norm_layer --page-size 1")
    assert result.success, result.error_in_exec
    assert result.result.page_size == 1
    assert result.result.page_label.value == "page 1 of 3"


def test_failed_redefinition_leaves_the_inspector_showing_the_kept_variables(shell):
    shell.run_cell(DENSE.format(name="Rolled"))
    # Refreshing after every call, so the trial call of the edit is shown at once
    # and only the rollback itself can bring the view back.
    shell.run_cell("rolled = Rolled()\nrolled(tf.ones([1, 4]))\n"
                   "rolled_inspector = tf1kit.notebook.inspect(rolled)\n"
                   "rolled_inspector.after_call = lambda: rolled_inspector.refresh('after call')")
    failing = DENSE.format(name="Rolled").replace(
        "tf.matmul(inputs, w) + b",
        "extra = tf.compat.v1.get_variable('extra', shape=[2])\nundefined_name")
    result = shell.run_cell(failing)
    assert isinstance(result.error_in_exec, NameError)
    inspector = shell.user_ns["rolled_inspector"]
    assert inspector.variable_names() == ["dense/kernel", "dense/bias"]
    assert "extra" not in inspector.table.value


def test_regularization_pane_shows_the_layers_own_losses(shell):
    result = shell.run_cell('''
class Regularized(keras.layers.Layer):
    @tf1kit.track_tf1_style_variables
    def call(self, x):
        ones = tf.compat.v1.ones_initializer()
        w = tf.compat.v1.get_variable("w", shape=[2], initializer=ones,
                                      regularizer=lambda v: tf.reduce_sum(v))
        m = tf.compat.v1.get_variable("m", shape=[2], initializer=ones, trainable=False,
                                      regularizer=lambda v: tf.reduce_sum(v))
        y = tf.compat.v1.layers.dense(x, 1, kernel_initializer=ones,
                                      activity_regularizer=lambda t: 0.5 * tf.reduce_sum(t))
        return y * w[0] + m[0]

regularized = Regularized()
regularized(tf.ones([1, 2]))
regularized_inspector = tf1kit.notebook.inspect(regularized)
''')
    assert result.success, result.error_in_exec
    layer, inspector = shell.user_ns["regularized"], shell.user_ns["regularized_inspector"]
    expected = [float(loss) for loss in layer.losses]
    # The trainable w (sum of ones = 2) and the activity loss (0.5 * 2 = 1); Keras 3
    # regularizes trainable weights only, so the non-trainable m adds nothing.
    assert sorted(expected) == [1.0, 2.0]
    inspector.tabs.selected_index = 1
    shown = [float(v) for v in re.findall(r"<td>([-\d.e+]+)</td></tr>", inspector.losses.value)]
    assert shown == expected
    assert "total 3" in inspector.losses.value
    inspector.tabs.selected_index = 0


def test_last_call_column_says_what_the_last_call_did(shell, normalized):
    _, inspector = normalized
    shell.run_cell("norm_layer(tf.ones([4, 2]))")
    statuses = re.findall(r"<td>([^<>]*)</td></tr>", inspector.table.value)
    assert len(statuses) == 3 and all(statuses), statuses
    assert statuses == ["used"] * 3


def test_close_releases_the_inspected_layer(shell):
    shell.run_cell(DENSE.format(name="Closable"))
    shell.run_cell("closable = Closable()\nclosable(tf.ones([1, 2]))\n"
                   "closing = tf1kit.notebook.inspect(closable)")
    layer_ref = weakref.ref(shell.user_ns["closable"])
    inspector = shell.user_ns["closing"]
    inspector.close()
    shell.run_cell("del closable")
    gc.collect()
    assert layer_ref() is None, gc.get_referrers(layer_ref())
    assert inspector.widget is not None  # the closed inspector itself can still be held


def test_batch_norm_plot_has_integer_ticks_and_a_legend_off_the_lines():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from tf1kit.notebook.plots import batch_norm_figure

    history = [(1, 0.0, 1.0), (2, 0.5, 0.9), (3, 0.75, 0.8)]
    figure = batch_norm_figure("bn", np.array([0.1, 0.9, 0.4]), np.array([1.0, 0.7, 0.8]),
                               history)
    FigureCanvasAgg(figure).draw()
    renderer = figure.canvas.get_renderer()
    history_axes = figure.axes[-1]
    low, high = history_axes.get_xlim()
    ticks = [t for t in history_axes.get_xticks() if low <= t <= high]
    assert ticks and all(float(t).is_integer() for t in ticks), ticks
    legends = [a.get_legend() for a in figure.axes if a.get_legend()] + list(figure.legends)
    assert legends
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for axes in figure.axes:
            assert not box.overlaps(axes.get_window_extent(renderer)), axes.get_title()


def test_display_carries_a_static_view_for_viewers_without_a_kernel(shell, normalized):
    _, inspector = normalized
    bundle = inspector._repr_mimebundle_()
    view = bundle["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] == inspector.widget.model_id and view["version_major"] == 2
    assert bundle["text/plain"] == "tf1kit inspector: norm (3 variables)"
    static = bundle["text/html"]
    names = re.findall(r'data-name="([^"]+)"', static)
    assert names == ["dense/kernel", "bn/moving_mean", "bn/moving_variance"]
    assert "run the notebook for the live inspector" in static
    inspector.tabs.selected_index = 2
    static = inspector._repr_mimebundle_()["text/html"]
    assert 'data-name="bn"' in static and "data:image/png;base64," in static
    inspector.tabs.selected_index = 0


def test_batch_norm_tab_is_paginated_with_a_per_channel_view(shell):
    shell.run_cell('''%%tf1layer ManyNorms
h = inputs
for i in range(25):
    h = tf.compat.v1.layers.batch_normalization(h, training=training, name=f"bn{i}")
h
''')
    result = shell.run_cell("norms = ManyNorms()\n"
                            "norms(tf.constant([[1.0, 2.0, 3.0], [3.0, 6.0, 9.0]]), training=True)\n"
                            "norms_view = tf1kit.notebook.inspect(norms)\n"
                            "norms_view.tabs.selected_index = 2")
    assert result.success, result.error_in_exec
    inspector = shell.user_ns["norms_view"]
    shown = re.findall(r'data-name="([^"]+)"', inspector.batch_norm.value)
    assert shown == [f"bn{i}" for i in range(10)]
    assert inspector.view.batch_norm_pager.label.value == "page 1 of 3"
    inspector.view.batch_norm_pager.next_button.click()
    shown = re.findall(r'data-name="([^"]+)"', inspector.batch_norm.value)
    assert shown == [f"bn{i}" for i in range(10, 20)]
    # The selected layer's moving statistics, channel by channel: one training call
    # from zeros/ones with momentum 0.99 mixes in 0.01 of the batch's statistics
    # (2-D input: TF1's non-fused path, biased variance).
    inspector.batch_norm_select.value = "bn0"
    name, mean, variance = inspector._channels
    batch = np.array([[1.0, 2.0, 3.0], [3.0, 6.0, 9.0]])
    np.testing.assert_allclose(mean, 0.01 * batch.mean(0), rtol=1e-5)
    np.testing.assert_allclose(variance, 0.99 + 0.01 * batch.var(0), rtol=1e-5)
    assert name == "bn0" and bytes(inspector.batch_norm_plot.value).startswith(b"\x89PNG")
    inspector.tabs.selected_index = 0


def test_refreshes_are_throttled_during_a_cell_and_current_after_it(shell):
    shell.run_cell(DENSE.format(name="Busy"))
    shell.run_cell("busy = Busy()\nbusy(tf.ones([1, 2]))\nbusy_view = tf1kit.notebook.inspect(busy)")
    inspector = shell.user_ns["busy_view"]
    before = inspector.refresh_count
    result = shell.run_cell(
        "for step in range(60):\n"
        "    busy(tf.ones([1, 2]))\n"
        "    busy.weights[1].assign(tf.fill([3], float(step)))")
    assert result.success, result.error_in_exec
    # 60 calls: at most a few refreshes during the cell (0.25 s apart at least)...
    refreshes = inspector.refresh_count - before
    assert 1 <= refreshes <= 8, refreshes
    # ...and the one owed at its end shows the state after the last call.
    assert "after call" in inspector.header.value
    assert inspector.row("dense/bias").mean == pytest.approx(59.0)
    assert inspector.snapshot.calls[-1]["index"] == 61
