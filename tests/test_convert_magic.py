"""`%tf1convert` in a real in-process IPython shell."""

import numpy as np
import pytest
from IPython.core.error import UsageError


@pytest.fixture(scope="module")
def shell():
    from IPython.testing.globalipapp import start_ipython

    ip = start_ipython()
    if ip is None:  # already started by another module (or IPython 7): it is global
        from IPython import get_ipython

        ip = get_ipython()
    ip.run_line_magic("load_ext", "tf1kit")
    ip.run_cell("import tensorflow as tf\nimport numpy as np\nimport keras\nimport tf1kit")
    return ip


CELL_LAYER = '''%%tf1layer CellNet --args "units=3"
h = tf.compat.v1.layers.dense(inputs, 4, activation=tf.nn.relu, name="hidden")
tf.compat.v1.layers.dense(h, units, name="logits")
'''


def test_puts_the_native_class_in_the_next_cell_and_returns_the_conversion(shell, capsys):
    assert shell.run_cell(CELL_LAYER).success
    assert shell.run_cell("cell_net = CellNet(name='cell_net')\n"
                          "sample = tf.ones([2, 5])\ncell_net(sample)").success
    shell.rl_next_input = None
    result = shell.run_cell("conversion = %tf1convert cell_net tf.ones([2, 5])")
    assert result.success, result.error_in_exec
    out = capsys.readouterr().out
    assert "CellNet: converted completely, 4 weights mapped" in out
    source = shell.rl_next_input
    assert source is not None and "class CellNet(keras.Model):" in source
    assert "keras.layers.Dense(4, activation=\"relu\", name=\"hidden\")" in source
    assert "def call(self, inputs, training=None):" in source  # the cell layer's signature
    # Running the next cell defines the native class, which takes the weights by the map.
    assert shell.run_cell(source).success
    assert shell.run_cell(
        "native = CellNet()\nnative(sample)\n"
        "paths = {v.path: v for v in native.weights}\n"
        "for tf1_name, path in conversion.weight_map.items():\n"
        "    paths[path].assign({v.tf1_name: v for v in cell_net.weights}[tf1_name])").success
    ns = shell.user_ns
    np.testing.assert_allclose(ns["native"](ns["sample"]), ns["cell_net"](ns["sample"]),
                               atol=1e-6)


def test_needs_a_layer_and_inputs(shell):
    with pytest.raises(UsageError, match="inputs"):
        shell.run_line_magic("tf1convert", "cell_net")
    with pytest.raises(UsageError, match="evaluating 'no_such_layer' failed: NameError"):
        shell.run_line_magic("tf1convert", "no_such_layer tf.ones([2, 5])")


UNSUPPORTED_CELL = '''class RandomGlue(keras.layers.Layer):
    @tf1kit.track_tf1_style_variables
    def call(self, x):
        h = tf.compat.v1.layers.dense(x, 3)
        return h + tf.random.normal(tf.shape(h))
'''


def test_unsupported_code_is_named_by_its_cell_and_line(shell):
    # ipykernel compiles cells under temporary file names; the report names
    # the cell as IPython's tracebacks do.
    number = shell.execution_count
    assert shell.run_cell(UNSUPPORTED_CELL, store_history=True).success
    assert shell.run_cell("glue = RandomGlue()\nglue(tf.ones([2, 4]))\n"
                          "glue_result = tf1kit.to_keras(glue, tf.ones([2, 4]))").success
    [item] = shell.user_ns["glue_result"].unsupported
    assert item.location == f"Cell In[{number}], line 5", item
    # Outside a shell's cells, a file keeps its path and line.
    from tf1kit.convert.recording import user_location

    assert user_location([(__file__, 7)]) == f"{__file__}:7"
