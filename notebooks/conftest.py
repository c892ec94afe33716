"""nbval setup for the lessons.

* Kernels started by nbval inherit this environment: keep TensorFlow quiet.
* TensorFlow's C++ start-up lines (timestamp + pid, written straight to the
  process's stderr when TensorFlow is imported) are not part of any lesson:
  they are dropped from both the stored and the fresh outputs before nbval
  compares them, the same way `tools/normalize.py` drops them from the stored
  notebooks. Any other stderr output is still compared and still fails a cell.
"""

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

sys.path.insert(0, str(Path(__file__).resolve().parent / "tools"))
from normalize import strip_tf_log  # noqa: E402

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
