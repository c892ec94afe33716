"""The lessons' kernel (notebooks/tools/quiet_kernel.py) in a real Jupyter kernel:
TensorFlow's start-up lines never reach the notebook, and the kernel is
otherwise an ordinary ipykernel (inline plots, stderr still shown)."""

import os
import sys
from pathlib import Path

from kernel_session import KernelSession

TOOLS = Path(__file__).resolve().parents[2] / "notebooks" / "tools"


def test_lessons_kernel_keeps_tensorflow_start_up_lines_out(tmp_path, monkeypatch):
    sys.path.insert(0, str(TOOLS))
    try:
        import quiet_kernel
    finally:
        sys.path.remove(str(TOOLS))
    quiet_kernel.install(tmp_path)
    # A user's environment: nothing set, not even TF_CPP_MIN_LOG_LEVEL.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TF_", "JUPYTER_PATH", "MPLBACKEND"))}
    env["JUPYTER_PATH"] = str(tmp_path)
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))  # the client picks the kernel spec
    kernel_log = tmp_path / "kernel-stderr.log"  # what the terminal running Jupyter shows
    with open(kernel_log, "w") as log:
        session = KernelSession(env=env, stderr=log)
        try:
            result = session.execute(
                "import os\nos.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')\n"
                "import tensorflow as tf, keras\n"
                "print(float(tf.reduce_sum(tf.ones([3]))))\n"
                "import sys; print('still shown', file=sys.stderr)")
            plotted = session.execute(
                "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()")
        finally:
            session.close()
    assert result["error"] is None, result["error"]
    assert result["stdout"] == "3.0\n"
    assert "quiet_kernel.py" in session.manager.kernel_spec.argv[1]
    assert result.get("stderr", "") == "still shown\n"
    # Not in the kernel's own stderr either (the terminal of `make lessons`), where
    # ipykernel also echoes what it forwards to the notebook.
    logged = kernel_log.read_text()
    assert "port.cc" not in logged and "absl::InitializeLog" not in logged, logged[-2000:]
    # Still an ordinary ipykernel: figures show inline.
    assert plotted["error"] is None, plotted["error"]
    assert any("image/png" in mimes for mimes in plotted["displays"]), plotted
