"""`%tf1verify` in the real in-process IPython shell the notebook tests use,
on `%%tf1layer` instances: the report it returns, and UsageErrors."""

import importlib.util
import pathlib

import pytest
from IPython.core.error import UsageError


def _notebook_conftest():
    path = pathlib.Path(__file__).parent / "notebook" / "conftest.py"
    spec = importlib.util.spec_from_file_location("tf1kit_tests_notebook_conftest", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The same session fixtures as tests/notebook (one global IPython shell).
_fixtures = _notebook_conftest()
shell, run = _fixtures.shell, _fixtures.run

CELL = '''%%tf1layer VerifiedNet --args "units=3"
h = tf.compat.v1.layers.dense(inputs, units, name="hidden")
h = tf.compat.v1.layers.batch_normalization(h, training=training, name="bn")
tf.compat.v1.layers.dense(tf.nn.relu(h), 2, name="out")
'''

NATIVE = '''
class VerifiedNative(keras.layers.Layer):
    def __init__(self, momentum=0.99, **kwargs):
        super().__init__(**kwargs)
        self.hidden = keras.layers.Dense(3, name="hidden")
        self.bn = keras.layers.BatchNormalization(momentum=momentum, name="bn")
        self.out = keras.layers.Dense(2, name="out")

    def call(self, x, training=False):
        return self.out(tf.nn.relu(self.bn(self.hidden(x), training=training)))

verify_x = np.random.RandomState(0).normal(size=(6, 4)).astype("float32")
'''


@pytest.fixture(scope="module")
def defined(shell):
    for source in (CELL, NATIVE):
        assert shell.run_cell(source, store_history=True).success
    return shell


def test_magic_verifies_a_tf1layer_instance_against_its_rewrite(defined, run):
    result = run("%tf1verify VerifiedNet() verify_x --native VerifiedNative() --steps 1")
    assert result.success, result.error_in_exec
    report = result.result
    from tf1kit.verify import VerifyReport

    assert isinstance(report, VerifyReport) and report.ok, str(report)
    assert report.settings["steps"] == 1 and report.settings["layer"] == "VerifiedNet"
    # The cell's own code ran as TF1 code in a graph: the same TF1 names.
    assert {m["tf1"] for m in report.name_matches} >= {"hidden/kernel", "bn/moving_mean"}


def test_magic_options_reach_verify(defined, run):
    result = run('%tf1verify VerifiedNet() verify_x --native "VerifiedNative(momentum=0.9)" '
                 "--steps 1 --optimizer adam --atol 1e-4")
    report = result.result
    assert not report.ok
    assert report.settings["optimizer"].startswith("adam") and report.settings["atol"] == 1e-4
    assert report.first_divergence["bn/moving_mean"] == "moving_stats"


def test_magic_usage_errors(defined, shell):
    with pytest.raises(UsageError, match="evaluating native 'Missing\\(\\)' failed: NameError"):
        shell.run_line_magic("tf1verify", "VerifiedNet() verify_x --native Missing()")
    with pytest.raises(UsageError, match="steps must be a whole number"):
        shell.run_line_magic("tf1verify", "VerifiedNet() verify_x --steps -2")
    with pytest.raises(UsageError, match="arguments are required: inputs(.|\n)*%tf1verify"):
        shell.run_line_magic("tf1verify", "VerifiedNet()")
    assert "tf1verify" in shell.magics_manager.magics["line"]


def test_magic_verifies_a_tf1layer_module(defined, run):
    assert run('''%%tf1layer ScaledModule --module --args "scale=2.0"
w = tf.compat.v1.get_variable("w", shape=[inputs.shape[-1], 2])
tf.matmul(inputs, w) * scale
''').success
    result = run("%tf1verify ScaledModule(scale=3.0) verify_x --steps 1")
    assert result.success, result.error_in_exec
    report = result.result
    assert report.ok, str(report)
    assert report.worlds["shim_eager"]["drew_initial_values"]  # rebuilt from its --args
    assert report.settings["layer"] == "ScaledModule"
