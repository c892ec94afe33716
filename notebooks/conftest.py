"""nbval setup for the lessons.

* nbval runs the lessons in the lessons' own kernel (`tools/quiet_kernel.py`,
  the one `make lessons` opens them with), which keeps TensorFlow's C++
  start-up lines out of the notebook. Unless JUPYTER_PATH already provides
  it, its kernel spec is written to a temporary directory put first on
  JUPYTER_PATH for this test run.
* Should such a line still reach a cell (another kernel), it is dropped from
  both the stored and the fresh outputs before nbval compares them, the same
  way `tools/normalize.py` drops them from the stored notebooks. Any other
  stderr output is still compared and still fails a cell.
"""

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

sys.path.insert(0, str(Path(__file__).resolve().parent / "tools"))
from normalize import strip_tf_log  # noqa: E402
import quiet_kernel  # noqa: E402


def _use_lessons_kernel():
    for directory in filter(None, os.environ.get("JUPYTER_PATH", "").split(os.pathsep)):
        spec = Path(directory) / "kernels" / "python3" / "kernel.json"
        if spec.is_file() and "quiet_kernel.py" in spec.read_text(encoding="utf-8"):
            return
    directory = tempfile.mkdtemp(prefix="tf1kit-kernels-")
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    quiet_kernel.install(directory)
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        filter(None, [directory, os.environ.get("JUPYTER_PATH")]))


_use_lessons_kernel()

try:
    from nbval import plugin as _nbval_plugin
except ImportError:  # nbval not installed: nothing to adjust
    _nbval_plugin = None


def _without_tf_log(outputs):
    kept = []
    for output in outputs:
        if output.get("output_type") == "stream" and output.get("name") == "stderr":
            text = strip_tf_log(output["text"])
            if not text:
                continue
            output = type(output)(output)
            output["text"] = text
        kept.append(output)
    return kept


if _nbval_plugin is not None and not getattr(_nbval_plugin, "_tf1kit_patched", False):
    _original_transform = _nbval_plugin.transform_streams_for_comparison

    def transform_streams_for_comparison(outputs):
        return _original_transform(_without_tf_log(outputs))

    _nbval_plugin.transform_streams_for_comparison = transform_streams_for_comparison
    _nbval_plugin._tf1kit_patched = True
