"""The lessons' kernel (notebooks/tools/quiet_kernel.py) in a real Jupyter kernel:
TensorFlow's start-up lines never reach the notebook, and the kernel is
otherwise an ordinary ipykernel (inline plots, stderr still shown)."""

import os
import sys
from pathlib import Path

from kernel_session import KernelSession

TOOLS = Path(__file__).resolve().parents[2] / "notebooks" / "tools"


def test_lessons_kernel_keeps_tensorflow_start_up_lines_out(tmp_path):
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
    session = KernelSession(env=env)
    try:
        result = session.execute(
            "import os\nos.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')\n"
            "import tensorflow as tf, keras, matplotlib\n"
            "print(float(tf.reduce_sum(tf.ones([3]))), matplotlib.get_backend())\n"
            "import sys; print('still shown', file=sys.stderr)")
    finally:
        session.close()
    assert result["error"] is None, result["error"]
    assert result["stdout"].split() == ["3.0", "module://matplotlib_inline.backend_inline"]
    assert result.get("stderr", "") == "still shown\n"
