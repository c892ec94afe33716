"""`import tf1kit` must not pull in the notebook stack (IPython, widgets, plots)
beyond what TensorFlow and Keras import themselves."""

import subprocess
import sys

CHECK = """
import sys
import tensorflow, keras
def notebook_modules():
    return {m for m in sys.modules if m.split(".")[0] in ("IPython", "ipywidgets", "matplotlib")}
before = notebook_modules()
import tf1kit, tf1kit.notebook
from tf1kit.notebook import InspectorCallback, inspect, load_ipython_extension
print("ADDED", sorted(notebook_modules() - before))
"""


def test_import_stays_light():
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                          timeout=300, env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin"})
    assert "ADDED []" in done.stdout, done.stdout + done.stderr[-2000:]
