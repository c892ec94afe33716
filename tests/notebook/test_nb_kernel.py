"""The magics in a real Jupyter kernel: definition, tracebacks, pdb over stdin,
and inspector updates pushed over the widget comm while the kernel is paused."""

import re

import pytest

from conftest import extension_name
from kernel_session import KernelSession, widget_value
from nb_cells import DENSE, DENSE_EDITED, STEPPED

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def kernel():
    session = KernelSession()
    setup = session.execute(
        f"%load_ext {extension_name()}\nimport tensorflow as tf\nimport tf1kit.notebook")
    assert setup["error"] is None, setup["error"]
    yield session
    session.close()


def test_define_call_and_redefine(kernel):
    assert kernel.execute(DENSE.format(name="KDense"))["error"] is None
    called = kernel.execute("k = KDense(units=2)\nprint(k(tf.ones([3, 4])).shape, "
                            "[v.name for v in k.weights])")
    assert called["error"] is None, called["error"]
    assert "(3, 2) ['dense/kernel:0', 'dense/bias:0']" in called["stdout"]
    edited = kernel.execute(DENSE_EDITED.format(name="KDense", options=""))
    assert edited["error"] is None, edited["error"]
    assert "created 1 (dense/scale)" in edited["stdout"]
    assert "no longer used 1 (dense/bias)" in edited["stdout"]


def test_error_traceback_shows_cell_lines(kernel):
    cell = "%%tf1layer KBroken\nw = tf.compat.v1.get_variable('w', shape=[2])\nw + undefined_name\n"
    assert kernel.execute(cell)["error"] is None
    failed = kernel.execute("KBroken()(tf.ones([2]))")
    ename, _, traceback = failed["error"]
    traceback = ANSI.sub("", traceback)
    assert ename == "NameError"
    assert re.search(r"Cell In\[\d+\], line 3", traceback)
    assert "----> 3 w + undefined_name" in traceback
    assert "<string>" not in traceback


def test_usage_error_in_kernel(kernel):
    failed = kernel.execute("%%tf1layer KBad --nope\nx\n")
    assert failed["error"][0] == "UsageError"
    assert "%%tf1layer [--module]" in failed["error"][1]


def test_tf1debug_over_stdin_pushes_inspector_updates_at_each_stop(kernel):
    assert kernel.execute(STEPPED.format(name="KStepped"))["error"] is None
    opened = kernel.execute(
        "ks = KStepped()\ninspector = tf1kit.notebook.inspect(ks)\n"
        "display(inspector)\nprint('TABLE', inspector.table.model_id)")
    assert opened["error"] is None, opened["error"]
    table_id = re.search(r"TABLE (\w+)", opened["stdout"]).group(1)
    pushed = []  # what the front end would show at each pdb prompt

    def table_names(result):
        html = widget_value(result["comms"], table_id) or ""
        names = re.findall(r'data-name="([^"]+)"', html)
        pushed.append(names)
        return names

    debugged = kernel.execute("%tf1debug ks(tf.ones([2, 4]))",
                              replies=["n", "n", "n", "n", "c"], on_input=table_names)
    assert debugged["error"] is None, debugged["error"]
    stdout = ANSI.sub("", debugged["stdout"])
    assert "----> 2 w = tf.compat.v1.get_variable(" in stdout
    assert len(debugged["prompts"]) == 5
    assert pushed[1:] == [["dense/kernel"], ["dense/kernel"],
                          ["dense/kernel", "bn/moving_mean"],
                          ["dense/kernel", "bn/moving_mean", "bn/moving_variance"]]
    after = kernel.execute("print(tf.config.functions_run_eagerly(), len(ks.weights))")
    assert "False 3" in after["stdout"]


def test_refresh_button_click_from_front_end_runs_on_kernel_main_thread(kernel):
    state = kernel.execute("print('IDS', inspector.refresh_button.model_id, inspector.refresh_count)")
    button_id, count = state["stdout"].split("IDS ")[1].split()
    # What the browser sends when the button is clicked.
    click = kernel.client.session.msg("comm_msg", {
        "comm_id": button_id, "data": {"method": "custom", "content": {"event": "click"}}})
    kernel.client.shell_channel.send(click)
    after = kernel.execute("print('COUNT', inspector.refresh_count, "
                           "'refresh button' in inspector.header.value)")
    assert f"COUNT {int(count) + 1} True" in after["stdout"]
