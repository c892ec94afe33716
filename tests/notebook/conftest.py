"""One real IPython shell per test session, with the tf1kit magics loaded."""

import io
import os
import sys

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@pytest.fixture(scope="session")
def shell():
    from IPython.testing.globalipapp import start_ipython

    ip = start_ipython()
    if ip is None:  # IPython 7 (Colab's) returns nothing: the shell is global
        from IPython import get_ipython

        ip = get_ipython()
    ip.run_line_magic("load_ext", "tf1kit")
    ip.run_cell("import tensorflow as tf\nimport numpy as np\nimport keras\nimport tf1kit.notebook")
    return ip


@pytest.fixture
def run(shell):
    """Runs a cell; returns the ExecutionResult (errors are kept, not raised)."""
    def run_cell(source):
        return shell.run_cell(source, store_history=True)

    return run_cell


@pytest.fixture
def scripted_stdin():
    """Feeds pdb commands through sys.stdin (pdb reads it with input())."""
    saved = sys.stdin

    def feed(*commands):
        sys.stdin = io.StringIO("".join(f"{command}\n" for command in commands))

    yield feed
    sys.stdin = saved


def pytest_report_header(config):
    import IPython

    return f"IPython {IPython.__version__} (the magics also run on Colab's 7.34 via `make test`)"
