"""The magics in a real Jupyter kernel: definition, tracebacks, pdb over stdin,
and inspector updates pushed over the widget comm while the kernel is paused.

`make test` runs this module twice: with the project's versions, and with
Colab's (IPython 7.34, ipykernel 5.5.6, ipywidgets 7.7.1; see the Makefile).
Each test sets up what it uses, so any one of them runs alone.
"""

import os
import re

import pytest

from kernel_session import KernelSession, widget_value
from nb_cells import DENSE, DENSE_EDITED, STEPPED

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def kernel():
    session = KernelSession()
    setup = session.execute(
        f"%load_ext tf1kit\nimport tensorflow as tf, keras\nimport tf1kit.notebook")
    assert setup["error"] is None, setup["error"]
    yield session
    session.close()


def ok(result):
    assert result["error"] is None, result["error"]
    return result


def test_kernel_runs_the_expected_versions(kernel):
    """Under `make test`'s Colab step, the kernel really runs Colab's pins."""
    shown = ok(kernel.execute(
        "import IPython, ipykernel, ipywidgets\n"
        "print('VERSIONS', IPython.__version__, ipykernel.__version__, ipywidgets.__version__)"))
    found = dict(zip(("ipython", "ipykernel", "ipywidgets"),
                     shown["stdout"].split("VERSIONS ")[1].split()))
    expected = os.environ.get("TF1KIT_EXPECT_VERSIONS")  # e.g. "ipython==7.34.0 ..."
    if expected:
        pins = dict(pin.lower().split("==") for pin in expected.split())
        assert {name: found[name] for name in pins} == pins
    else:
        assert int(found["ipywidgets"].split(".")[0]) >= 7


def test_define_call_and_redefine(kernel):
    ok(kernel.execute(DENSE.format(name="KDense")))
    called = ok(kernel.execute("k = KDense(units=2)\nprint(k(tf.ones([3, 4])).shape, "
                               "[v.name for v in k.weights])"))
    assert "(3, 2) ['dense/kernel:0', 'dense/bias:0']" in called["stdout"]
    edited = ok(kernel.execute(DENSE_EDITED.format(name="KDense", options="")))
    assert "created 1 (dense/scale)" in edited["stdout"]
    assert "no longer used 1 (dense/bias)" in edited["stdout"]


def test_traceback_names_the_defining_cell_and_starts_with_user_code(kernel):
    cell = "%%tf1layer KBroken\nw = tf.compat.v1.get_variable('w', shape=[2])\nw + undefined_name\n"
    defined = ok(kernel.execute(cell))
    ok(kernel.execute("between = 1"))  # the failing call runs two cells later
    failed = kernel.execute("KBroken()(tf.ones([2]))")
    ename, _, traceback = failed["error"]
    traceback = ANSI.sub("", traceback)
    assert ename == "NameError"
    number = defined["execution_count"]
    assert (f"Cell In[{number}], line 3" in traceback                 # IPython 8+
            or re.search(rf"<ipython-input-{number}-\w+> in \w+", traceback)), traceback
    assert "----> 3 w + undefined_name" in traceback
    assert "<string>" not in traceback
    own_frames = re.findall(r"tf1kit/\w+/\w+\.py", traceback)
    assert len(own_frames) <= 1, own_frames  # the one that re-raises, as Keras keeps one
    assert "more_inputs" not in traceback and "inspect._empty" not in traceback


def test_rollback_note_is_shown_before_the_traceback(kernel):
    ok(kernel.execute(DENSE.format(name="KRolled")))
    ok(kernel.execute("kr = KRolled()\nkr(tf.ones([1, 4]))"))
    failing = DENSE.format(name="KRolled").replace("tf.matmul(inputs, w) + b", "undefined_name")
    failed = kernel.execute(failing)
    assert failed["error"][0] == "NameError"
    assert "previous definition is still in place" in failed.get("stderr", "")
    assert "previous definition" not in failed["error"][2]
    assert failed["order"].index("stderr") < failed["order"].index("error")


def test_usage_error_in_kernel(kernel):
    failed = kernel.execute("%%tf1layer KBad --nope\nx\n")
    assert failed["error"][0] == "UsageError"
    assert "%%tf1layer [--module]" in failed["error"][1]


def test_tf1debug_over_stdin_pushes_inspector_updates_at_each_stop(kernel):
    ok(kernel.execute(STEPPED.format(name="KStepped")))
    opened = ok(kernel.execute(
        "ks = KStepped()\nks_view = tf1kit.notebook.inspect(ks)\n"
        "display(ks_view)\nprint('TABLE', ks_view.table.model_id)"))
    table_id = re.search(r"TABLE (\w+)", opened["stdout"]).group(1)
    pushed = []  # what the front end would show at each pdb prompt

    def table_names(result):
        html = widget_value(result["comms"], table_id) or ""
        names = re.findall(r'data-name="([^"]+)"', html)
        pushed.append(names)
        return names

    debugged = ok(kernel.execute("%tf1debug ks(tf.ones([2, 4]))",
                                 replies=["n", "n", "n", "n", "c"], on_input=table_names))
    stdout = ANSI.sub("", debugged["stdout"])
    assert "----> 2 w = tf.compat.v1.get_variable(" in stdout
    assert len(debugged["prompts"]) == 5
    assert pushed[1:] == [["dense/kernel"], ["dense/kernel"],
                          ["dense/kernel", "bn/moving_mean"],
                          ["dense/kernel", "bn/moving_mean", "bn/moving_variance"]]
    after = kernel.execute("print(tf.config.functions_run_eagerly(), len(ks.weights))")
    assert "False 3" in after["stdout"]


def test_refresh_button_click_from_front_end_runs_on_kernel_main_thread(kernel):
    ok(kernel.execute(DENSE.format(name="KClicked")))
    state = ok(kernel.execute(
        "kc = KClicked()\nkc(tf.ones([1, 2]))\nkc_view = tf1kit.notebook.inspect(kc)\n"
        "print('IDS', kc_view.refresh_button.model_id, kc_view.refresh_count)"))
    button_id, count = state["stdout"].split("IDS ")[1].split()
    # What the browser sends when the button is clicked.
    click = kernel.client.session.msg("comm_msg", {
        "comm_id": button_id, "data": {"method": "custom", "content": {"event": "click"}}})
    kernel.client.shell_channel.send(click)
    after = ok(kernel.execute("print('COUNT', kc_view.refresh_count, "
                              "'refresh button' in kc_view.header.value)"))
    assert f"COUNT {int(count) + 1} True" in after["stdout"]


def test_one_call_observer_after_every_watched_layer_is_gone(kernel):
    """Plain decorated layers are watched through one core observer, added once."""
    counted = ok(kernel.execute('''
import gc
from tf1kit.notebook import hooks

class KScale(keras.layers.Layer):
    @tf1kit.track_tf1_style_variables
    def call(self, x):
        return x * tf.compat.v1.get_variable("s", [], initializer=tf.compat.v1.ones_initializer())

first = KScale(); first(tf.ones([2]))
first_view = tf1kit.notebook.inspect(first)
first_view.close(); del first, first_view; gc.collect()
# Watched without an inspector, then garbage-collected: the set of watched
# owners empties without anyone saying so.
gone = KScale(); hooks.watch(gone); del gone; gc.collect()
second = KScale(); second_view = tf1kit.notebook.inspect(second)
second(tf.ones([2]))
print("LOGGED", len(hooks.call_log(second)))
'''))
    assert "LOGGED 1" in counted["stdout"]


def test_a_failing_inspector_is_closed_and_the_model_keeps_working(kernel):
    result = ok(kernel.execute('''
import warnings
class KPlain(keras.layers.Layer):
    @tf1kit.track_tf1_style_variables
    def call(self, x):
        return x * tf.compat.v1.get_variable("p", [], initializer=tf.compat.v1.ones_initializer())

kp = KPlain(); kp(tf.ones([2]))
kp_view = tf1kit.notebook.inspect(kp)
def broken():
    raise RuntimeError("view broke")
kp_view.after_call = broken  # what a call tells the view
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    out = kp(tf.ones([2]) * 3.0)
print("OUT", out.numpy().tolist(), "WARNED", any("view broke" in str(w.message) for w in caught))
print("AGAIN", kp(tf.ones([2])).numpy().tolist())
'''))
    assert "OUT [3.0, 3.0] WARNED True" in result["stdout"]
    assert "AGAIN [1.0, 1.0]" in result["stdout"]
