"""`%%tf1layer` in a real in-process IPython shell: define, call, redefine, errors."""

import warnings

import pytest
from IPython.core.error import UsageError

from nb_cells import DENSE, DENSE_EDITED


def test_load_ext_tf1kit_registers_magics_and_installs():
    import tensorflow as tf
    import tf1kit

    assert hasattr(tf1kit, "load_ipython_extension"), (
        "tf1kit/__init__.py must re-export load_ipython_extension for `%load_ext tf1kit`")
    from IPython.testing.globalipapp import get_ipython

    shell = get_ipython()
    shell.run_line_magic("load_ext", "tf1kit")
    assert "tf1layer" in shell.magics_manager.magics["cell"]
    assert tf.compat.v1.keras.utils.track_tf1_style_variables is tf1kit.track_tf1_style_variables


def test_defines_a_keras_layer_with_constructor_args(shell, run):
    assert run(DENSE.format(name="DenseA")).success
    result = run("layer_a = DenseA(units=2, name='a')\ny_a = layer_a(tf.ones([4, 5]))")
    assert result.success, result.error_in_exec
    layer = shell.user_ns["layer_a"]
    import keras

    assert isinstance(layer, keras.layers.Layer)
    assert layer.units == 2
    assert tuple(shell.user_ns["y_a"].shape) == (4, 2)
    assert [v.name for v in layer.weights] == ["dense/kernel:0", "dense/bias:0"]
    # Second call reuses the variables.
    run("layer_a(tf.ones([4, 5]))")
    assert len(layer.weights) == 2


def test_module_inputs_option_and_return(shell, run):
    cell = '''%%tf1layer Pair --module --inputs "x, y" --args "scale=2.0"
v = tf.compat.v1.get_variable("v", shape=[], initializer=tf.compat.v1.constant_initializer(scale))
if training:
    return x * v
x * v + y
'''
    assert run(cell).success
    run("pair = Pair()\nout_eval = pair(tf.constant(3.0), tf.constant(1.0))\n"
        "out_train = pair(tf.constant(3.0), tf.constant(1.0), training=True)")
    import tensorflow as tf

    pair = shell.user_ns["pair"]
    assert isinstance(pair, tf.Module) and not hasattr(pair, "built")
    assert float(shell.user_ns["out_eval"]) == 7.0
    assert float(shell.user_ns["out_train"]) == 6.0
    assert [v.name for v in pair.trainable_variables] == ["v:0"]


def test_redefinition_keeps_creates_and_reports_unused(shell, run, capsys):
    run(DENSE.format(name="DenseB"))
    run("layer_b = DenseB(name='b')\nlayer_b(tf.ones([2, 4]))")
    layer = shell.user_ns["layer_b"]
    kernel_before = layer.weights[0].numpy().copy()
    capsys.readouterr()
    assert run(DENSE_EDITED.format(name="DenseB", options="")).success
    report = capsys.readouterr().out
    assert "kept 1" in report and "created 1 (dense/scale)" in report
    assert "no longer used 1 (dense/bias)" in report
    # The existing instance now runs the edited code, with the kernel's old value.
    run("out_b = layer_b(tf.ones([2, 4]))")
    import numpy as np

    np.testing.assert_allclose(layer.weights[0].numpy(), kernel_before)
    np.testing.assert_allclose(shell.user_ns["out_b"].numpy(),
                               np.ones([2, 4]) @ kernel_before, rtol=1e-6)
    assert layer.unused_variable_names() == ["dense/bias"]
    assert layer.drop_unused_variables() == ["dense/bias"]
    assert sorted(v.name for v in layer.weights) == ["dense/kernel:0", "dense/scale:0"]


def test_redefinition_with_drop_unused_option(shell, run, capsys):
    run(DENSE.format(name="DenseC"))
    run("layer_c = DenseC()\nlayer_c(tf.ones([2, 4]))")
    capsys.readouterr()
    assert run(DENSE_EDITED.format(name="DenseC", options="--drop-unused")).success
    assert "dropped 1 unused (dense/bias)" in capsys.readouterr().out
    assert "dense/bias:0" not in [v.name for v in shell.user_ns["layer_c"].weights]


def test_changed_shape_replaces_the_variable(shell, run):
    run(DENSE.format(name="DenseD"))
    run("layer_d = DenseD()\nlayer_d(tf.ones([2, 4]))")
    assert run(DENSE.format(name="DenseD").replace("units=3", "units=5")).success
    # The instance keeps its own units=3; a fresh instance gets units=5.
    run("layer_d5 = DenseD()\nout_d5 = layer_d5(tf.ones([2, 4]))")
    assert tuple(shell.user_ns["out_d5"].shape) == (2, 5)
    run("layer_d.units = 6\nout_d6 = layer_d(tf.ones([2, 4]))")
    assert tuple(shell.user_ns["out_d6"].shape) == (2, 6)
    assert [tuple(v.shape) for v in shell.user_ns["layer_d"].weights] == [(4, 6), (6,)]


def test_syntax_error_keeps_previous_definition(shell, run):
    run(DENSE.format(name="DenseE"))
    run("layer_e = DenseE()\nbefore_e = layer_e(tf.ones([1, 4]))")
    broken = DENSE.format(name="DenseE").replace("tf.matmul(inputs, w) + b", "tf.matmul(inputs, w) +")
    result = run(broken)
    assert isinstance(result.error_in_exec, SyntaxError)
    assert result.error_in_exec.lineno == 5  # the cell's own line, magic line included
    assert run("after_e = layer_e(tf.ones([1, 4]))").success
    import numpy as np

    np.testing.assert_allclose(shell.user_ns["after_e"], shell.user_ns["before_e"])


def test_exception_in_new_code_keeps_previous_definition_and_cell_lines(shell, run):
    run(DENSE.format(name="DenseF"))
    run("layer_f = DenseF()\nbefore_f = layer_f(tf.ones([1, 4]))")
    failing = DENSE.format(name="DenseF").replace(
        "tf.matmul(inputs, w) + b", "extra = tf.compat.v1.get_variable('extra', shape=[2])\n"
                                    "undefined_name + 1")
    result = run(failing)
    error = result.error_in_exec
    assert isinstance(error, NameError)
    assert _cell_line_of(error, result) == 6
    layer = _rerun_ok(shell, run, "after_f = layer_f(tf.ones([1, 4]))")
    assert [v.name for v in shell.user_ns["layer_f"].weights] == ["dense/kernel:0", "dense/bias:0"]
    del layer


def test_runtime_error_traceback_shows_cell_line(shell, run):
    cell = '''%%tf1layer Faulty
w = tf.compat.v1.get_variable("w", shape=[3])
y = inputs * w
y = tf.reshape(y, [7, 7])
y
'''
    assert run(cell).success
    result = run("Faulty()(tf.ones([3]))")
    assert result.error_in_exec is not None
    assert _cell_line_of(result.error_in_exec, result) == 4
    import linecache

    frame_file = _cell_frame(result.error_in_exec).tb_frame.f_code.co_filename
    assert "tf.reshape(y, [7, 7])" in linecache.getline(frame_file, 4)


@pytest.mark.parametrize("line, message", [
    ("%%tf1layer", "needs a NAME"),
    ("%%tf1layer Good --bogus", "unrecognized arguments: --bogus"),
    ("%%tf1layer Good --args \"units\"", "needs a name and a default"),
    ("%%tf1layer Good --args \"units=(\"", "is not a list of name=value pairs"),
    ("%%tf1layer Good --args \"units=missing_name\"", "'units' (missing_name) failed"),
    ("%%tf1layer Good --inputs \"x, 1y\"", "'1y' is not a valid Python name"),
    ("%%tf1layer Good --inputs training", "reserved"),
    ("%%tf1layer 9lives", "not a valid Python name"),
])
def test_bad_options_raise_usage_error_with_usage(shell, run, line, message):
    result = run(f"{line}\nx = 1\n")
    assert isinstance(result.error_in_exec, UsageError)
    assert message in str(result.error_in_exec)
    assert "%%tf1layer [--module]" in str(result.error_in_exec)  # the usage text
    assert "Good" not in shell.user_ns


def test_usage_help_lists_options(shell):
    doc = shell.find_cell_magic("tf1layer").__doc__
    for option in ("--module", "--inputs", "--args", "--drop-unused"):
        assert option in doc


def test_cell_without_variables_warns(shell, run):
    run("%%tf1layer Plain\ninputs * 2\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run("plain = Plain()\nplain(tf.ones([2]))")
    assert any("created no variables" in str(w.message) for w in caught)


def test_keyboard_interrupt_mid_call_leaves_layer_usable(shell, run):
    cell = '''%%tf1layer Interruptible
first = tf.compat.v1.get_variable("first", shape=[2])
if stop_now():
    raise KeyboardInterrupt
second = tf.compat.v1.get_variable("second", shape=[2])
inputs * first * second
'''
    run("interrupt = [True]\ndef stop_now():\n    return interrupt.pop() if interrupt else False")
    assert run(cell).success
    result = run("interruptible = Interruptible()\ninterruptible(tf.ones([2]))")
    assert isinstance(result.error_in_exec, KeyboardInterrupt)
    assert run("out_i = interruptible(tf.ones([2]))").success
    layer = shell.user_ns["interruptible"]
    assert [v.name for v in layer.weights] == ["first:0", "second:0"]
    import tf1kit.notebook.hooks as hooks

    assert [entry["status"] for entry in hooks.call_log(layer)] == ["KeyboardInterrupt", "ok"]


def _cell_frame(error):
    tb, found = error.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_code.co_name.endswith("_forward"):
            found = tb
        tb = tb.tb_next
    assert found is not None, "no frame of the cell's forward function in the traceback"
    return found


def _cell_line_of(error, result):
    return _cell_frame(error).tb_lineno


def _rerun_ok(shell, run, source):
    result = run(source)
    assert result.success, result.error_in_exec
    return result


def test_question_mark_shows_usage(shell, capsys):
    shell.run_cell("%%tf1layer?")
    shown = capsys.readouterr().out
    assert "Define NAME as a layer" in shown
    assert "--drop-unused" in shown and "--inputs" in shown and "--args" in shown


# -- defects of issue 12, item 4 and the tracebacks of items 2 and 3 ----------

def _formatted_traceback(shell, error):
    """The traceback IPython shows for `error`, without colours."""
    import re

    lines = shell.InteractiveTB.structured_traceback(type(error), error, error.__traceback__)
    return re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(lines))


def test_keyword_is_not_a_class_name(shell, run):
    result = run("%%tf1layer for\nx = 1\n")
    assert isinstance(result.error_in_exec, UsageError)
    assert "'for' is not a valid Python name" in str(result.error_in_exec)
    assert "for" not in shell.user_ns


def test_ipython_syntax_inside_the_cell_runs(shell, run, capsys):
    cell = '''%%tf1layer Timed
w = tf.compat.v1.get_variable("w", shape=[2], initializer=tf.compat.v1.ones_initializer())
%time tf.reduce_sum(w)
inputs * w
'''
    result = run(cell)
    assert result.success, result.error_in_exec
    capsys.readouterr()
    result = run("timed_out = Timed()(tf.ones([2]) * 3.0)")
    assert result.success, result.error_in_exec
    assert "Wall time" in capsys.readouterr().out
    assert shell.user_ns["timed_out"].numpy().tolist() == [3.0, 3.0]


def test_usage_line_shows_the_name_as_required(shell, run):
    result = run("%%tf1layer Good --bogus\nx = 1\n")
    message = str(result.error_in_exec)
    usage = " ".join(message[message.index("%%tf1layer [--module]"):].split())
    assert usage.endswith("] NAME"), usage
    assert "[NAME]" not in usage and "[name]" not in usage


def test_reload_ext_then_rerun_updates_existing_instances(shell, run, capsys):
    assert run(DENSE.format(name="Reloaded")).success
    assert run("reloaded = Reloaded()\nreloaded(tf.ones([2, 4]))").success
    old_class = shell.user_ns["Reloaded"]
    shell.run_line_magic("reload_ext", "tf1kit")
    capsys.readouterr()
    assert run(DENSE_EDITED.format(name="Reloaded", options="")).success
    assert "created 1 (dense/scale)" in capsys.readouterr().out
    assert shell.user_ns["Reloaded"] is old_class
    assert run("reloaded_out = reloaded(tf.ones([2, 4]))").success
    names = [v.name for v in shell.user_ns["reloaded"].weights]
    assert "dense/scale:0" in names


def test_traceback_names_the_defining_cell(shell, run):
    cell = "%%tf1layer Misnumbered\nw = tf.compat.v1.get_variable('w', shape=[2])\nw + undefined_name\n"
    defined = run(cell)
    assert defined.success
    run("x_between = 1")  # the failing call runs in a later cell
    failed = run("Misnumbered()(tf.ones([2]))")
    text = _formatted_traceback(shell, failed.error_in_exec)
    number = defined.execution_count
    # IPython 8+: "Cell In[N], line 3"; IPython 7: "<ipython-input-N-...>".
    assert (f"Cell In[{number}], line 3" in text
            or f"<ipython-input-{number}-" in text), text


def test_traceback_shows_user_frames_and_no_phantom_arguments(shell, run):
    import os

    import tf1kit

    cell = "%%tf1layer Noisy\nw = tf.compat.v1.get_variable('w', shape=[2])\nw + undefined_name\n"
    assert run(cell).success
    failed = run("Noisy()(tf.ones([2]))")
    error = failed.error_in_exec
    package = os.path.dirname(os.path.abspath(tf1kit.__file__)) + os.sep
    files = []
    tb = error.__traceback__
    while tb is not None:
        files.append(tb.tb_frame.f_code.co_filename)
        tb = tb.tb_next
    own = [f for f in files if os.path.abspath(f).startswith(package)]
    assert len(own) <= 1, own  # at most the frame that re-raises, as Keras keeps one
    assert files[-1] == _cell_frame(error).tb_frame.f_code.co_filename
    text = _formatted_traceback(shell, error)
    assert "inspect._empty" not in text and "more_inputs" not in text


def test_rollback_note_comes_before_the_traceback(shell, run, capsys):
    run(DENSE.format(name="DenseG"))
    run("layer_g = DenseG()\nlayer_g(tf.ones([1, 4]))")
    capsys.readouterr()
    failing = DENSE.format(name="DenseG").replace("tf.matmul(inputs, w) + b", "undefined_name")
    result = run(failing)
    assert isinstance(result.error_in_exec, NameError)
    printed = capsys.readouterr()
    assert "previous definition is still in place" in printed.err
    # Printed before IPython shows the traceback, not as a note after it.
    assert not any("previous definition" in note
                   for note in getattr(result.error_in_exec, "__notes__", []))


def test_new_input_width_without_an_edit_is_tf1s_shape_error(shell, run):
    run(DENSE.format(name="DenseH"))
    assert run("layer_h = DenseH()\nlayer_h(tf.ones([2, 4]))").success
    result = run("layer_h(tf.ones([2, 6]))")
    assert isinstance(result.error_in_exec, ValueError)
    assert "dense/kernel" in str(result.error_in_exec) and "shape" in str(result.error_in_exec)
    assert [tuple(v.shape) for v in shell.user_ns["layer_h"].weights] == [(4, 3), (3,)]
    assert run("layer_h(tf.ones([2, 4]))").success


def test_a_rebound_name_still_redefines_the_same_class(shell, run, capsys):
    run(DENSE.format(name="Rebound"))
    assert run("rebound = Rebound()\nrebound(tf.ones([2, 4]))\nRebound = 'something else'").success
    capsys.readouterr()
    assert run(DENSE_EDITED.format(name="Rebound", options="")).success
    assert "created 1 (dense/scale)" in capsys.readouterr().out
    assert isinstance(shell.user_ns["rebound"], shell.user_ns["Rebound"])


def test_a_reloaded_definitions_module_still_finds_the_notebooks_class(shell, run, capsys):
    import importlib

    import tf1kit.notebook.definition as definition

    run(DENSE.format(name="Survivor"))
    assert run("survivor = Survivor()\nsurvivor(tf.ones([2, 4]))").success
    importlib.reload(definition)  # e.g. %autoreload: the registry starts empty
    capsys.readouterr()
    assert run(DENSE_EDITED.format(name="Survivor", options="")).success
    assert "created 1 (dense/scale)" in capsys.readouterr().out
    assert isinstance(shell.user_ns["survivor"], shell.user_ns["Survivor"])


# A functional layer at one call site: the eager layer cache (issue 16) must not
# outlive a redefinition that changes the call (the first call after an edit runs
# under the reshaping custom getter, so it builds anew), and calls reusing the
# layer afterwards must still report its variables used.
FUNCTIONAL = '''%%tf1layer {name} {options}
tf.compat.v1.layers.dense(inputs, 3, name="fc", {arguments})
'''


def test_redefined_functional_call_site_takes_the_new_arguments(shell, run, capsys):
    import numpy as np

    run(FUNCTIONAL.format(name="FunctionalA", options="", arguments="use_bias=True"))
    run("layer_f = FunctionalA()\nlayer_f(tf.ones([2, 4]))\nlayer_f(tf.ones([2, 4]))")
    layer = shell.user_ns["layer_f"]
    kernel = {v.name: v for v in layer.weights}["fc/kernel:0"].numpy()
    capsys.readouterr()
    x = "tf.constant([[1.0, -2.0, 3.0, -4.0], [-1.0, 2.0, -3.0, 4.0]])"
    assert run(FUNCTIONAL.format(name="FunctionalA", options="--drop-unused",
                                 arguments="use_bias=False, activation=tf.nn.relu")).success
    assert "dropped 1 unused (fc/bias)" in capsys.readouterr().out
    run(f"out_f = layer_f({x})")
    expected = np.maximum(np.array([[1.0, -2.0, 3.0, -4.0], [-1.0, 2.0, -3.0, 4.0]]) @ kernel, 0)
    np.testing.assert_allclose(shell.user_ns["out_f"].numpy(), expected, rtol=1e-6)
    assert sorted(v.name for v in layer.weights) == ["fc/kernel:0"]
    run(f"out_f = layer_f({x})")  # the layer of the previous call, reused
    np.testing.assert_allclose(shell.user_ns["out_f"].numpy(), expected, rtol=1e-6)
    assert layer.unused_variable_names() == []


def test_chained_tracebacks_show_no_tf1kit_frames(shell, run):
    """tf1kit names the variable at fault by raising a renamed error from
    TensorFlow's; IPython prints the chained one too, and neither shows the
    decorator's or the store's frames. (A Keras layer's call drops the chain;
    a `--module` cell keeps it.)"""
    import os

    import tf1kit

    cell = ("%%tf1layer Mistyped --module\n"
            "w = tf.compat.v1.get_variable('w', dtype=tf.int32, "
            "initializer=tf.constant([1.0, 2.0]))\ninputs * w\n")
    assert run(cell).success
    error = run("Mistyped()(tf.ones([2]))").error_in_exec
    assert isinstance(error, ValueError) and "w" in str(error)
    assert error.__cause__ is not None, "the case must chain TensorFlow's error"
    text = _formatted_traceback(shell, error)
    package = os.path.dirname(os.path.abspath(tf1kit.__file__))
    shown = [line for line in text.splitlines() if package in line]
    assert len(shown) <= 1, shown  # at most the frame that re-raises
    assert "decorator/track.py" not in text and "store/variable_store.py" not in text
