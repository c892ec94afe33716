"""`%tf1debug` with scripted pdb commands in a real in-process IPython shell."""

import sys

import pytest
import tensorflow as tf
from IPython.core.error import UsageError

from nb_cells import DENSE, STEPPED


@pytest.fixture(scope="module")
def stepping(shell):
    shell.run_cell(STEPPED.format(name="Stepped"))
    shell.run_cell("stepped = Stepped(name='stepped')\n"
                   "stepped_inspector = tf1kit.notebook.inspect(stepped)\n"
                   "debug_x = tf.ones([4, 2]) * [[1.0], [2.0], [3.0], [4.0]]")
    return shell.user_ns["stepped"], shell.user_ns["stepped_inspector"]


def test_stops_at_first_cell_line_and_inspector_follows_each_step(
        shell, stepping, scripted_stdin, capsys):
    layer, inspector = stepping
    seen = []  # the table's content at every value the widget pushes
    inspector.table.observe(lambda change: seen.append(change["new"]), names="value")
    scripted_stdin("n", "n", "n", "n", "c")
    eagerly_before = tf.config.functions_run_eagerly()
    result = shell.run_cell("%tf1debug stepped(debug_x, training=True)")
    assert result.success, result.error_in_exec
    out = capsys.readouterr().out
    # First stop: the first body line of the cell (line 2), not the magic line.
    first_stop = out.split("ipdb>")[0]
    assert "--Call--" not in first_stop
    assert "----> 2 w = tf.compat.v1.get_variable(" in first_stop
    assert "Stepped_forward()" in first_stop
    # Variables appear one by one in the pushed table: kernel, then the moving stats.
    names_per_push = [[name for name in ("dense/kernel", "bn/moving_mean", "bn/moving_variance")
                       if f'data-name="{name}"' in html] for html in seen]
    assert ["dense/kernel"] in names_per_push
    assert ["dense/kernel", "bn/moving_mean"] in names_per_push
    assert names_per_push.index(["dense/kernel"]) < names_per_push.index(
        ["dense/kernel", "bn/moving_mean"])
    assert names_per_push[-1] == ["dense/kernel", "bn/moving_mean", "bn/moving_variance"]
    assert "after call" in inspector.header.value
    assert tf.config.functions_run_eagerly() == eagerly_before
    assert len(layer.weights) == 3


def test_print_command_sees_cell_locals(shell, stepping, scripted_stdin, capsys):
    scripted_stdin("n", "p w.shape", "p units, training", "c")
    assert shell.run_cell("%tf1debug stepped(debug_x)").success
    out = capsys.readouterr().out
    assert "TensorShape([2, 3])" in out
    assert "(3, None)" in out
    assert "*** " not in out  # no pdb command failed


def test_breakpoint_in_cell_stops_there(shell, scripted_stdin, capsys):
    shell.run_cell('''%%tf1layer WithBreak
w = tf.compat.v1.get_variable("w", shape=[2])
y = inputs * w
breakpoint()
y + 1
''')
    shell.run_cell("with_break = WithBreak()")
    scripted_stdin("p float(tf.reduce_sum(y - inputs * w))", "c")
    hook = sys.breakpointhook
    assert shell.run_cell("%tf1debug --at-breakpoint with_break(tf.ones([2]))").success
    out = capsys.readouterr().out
    assert "----> 5 y + 1" in out  # the line after breakpoint(), numbered as in the cell
    assert "0.0" in out
    assert sys.breakpointhook is hook


def test_plain_decorated_method_in_notebook(shell, scripted_stdin, capsys):
    shell.run_cell('''
class Affine(keras.layers.Layer):
    @tf1kit.track_tf1_style_variables
    def call(self, x):
        a = tf.compat.v1.get_variable("a", shape=[], initializer=tf.compat.v1.ones_initializer())
        return a * x
affine = Affine()
''')
    scripted_stdin("c")
    assert shell.run_cell("%tf1debug affine(tf.ones([2]))").success
    out = capsys.readouterr().out
    assert 'a = tf.compat.v1.get_variable("a"' in out.split("ipdb>")[0]


def test_quit_leaves_layer_usable_and_eager_flag_restored(shell, stepping, scripted_stdin):
    scripted_stdin("q")
    assert shell.run_cell("%tf1debug stepped(debug_x)").success
    assert tf.config.functions_run_eagerly() is False
    assert shell.run_cell("after_quit = stepped(debug_x)").success


@pytest.mark.parametrize("line, message", [
    ("%tf1debug", "needs an expression"),
    ("%tf1debug stepped(", "is not an expression"),
    ("%tf1debug --bogus stepped(debug_x)", "unrecognized arguments"),
])
def test_bad_debug_input_is_a_usage_error(shell, stepping, line, message):
    result = shell.run_cell(line)
    assert isinstance(result.error_in_exec, UsageError)
    assert message in str(result.error_in_exec)


def test_commands_option_scripts_the_session_without_a_prompt(shell, stepping, capsys):
    result = shell.run_cell('%tf1debug --commands "n;p w.shape;c" stepped(debug_x, training=True)')
    assert result.success, result.error_in_exec
    out = capsys.readouterr().out
    assert "TensorShape([2, 3])" in out
    assert "*** " not in out


def test_commands_option_with_breakpoint_flag_parses(shell, stepping, capsys):
    result = shell.run_cell("%tf1debug -b -c 'c' stepped(debug_x)")
    assert result.success, result.error_in_exec


def test_pdb_stop_refreshes_only_the_inspectors_of_the_debugged_layer(
        shell, stepping, scripted_stdin):
    shell.run_cell(DENSE.format(name="Bystander"))
    shell.run_cell("bystander = Bystander()\nbystander(tf.ones([1, 2]))\n"
                   "bystander_inspector = tf1kit.notebook.inspect(bystander)")
    bystander = shell.user_ns["bystander_inspector"]
    count, header = bystander.refresh_count, bystander.header.value
    _, stepping_inspector = stepping
    stepping_count = stepping_inspector.refresh_count
    scripted_stdin("n", "c")
    assert shell.run_cell("%tf1debug stepped(debug_x)").success
    assert stepping_inspector.refresh_count > stepping_count
    assert bystander.refresh_count == count
    assert bystander.header.value == header
