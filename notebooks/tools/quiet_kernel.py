"""The lessons' kernel: ipykernel, without TensorFlow's C++ start-up lines.

While its libraries load, TensorFlow writes a few lines straight to file
descriptor 2 (oneDNN, CUDA stubs, CPU features). They come before absl's
logging is set up, so no TF_CPP_MIN_LOG_LEVEL can silence them, and ipykernel
forwards that descriptor into the notebook, as a pink block in the first cell
that imports TensorFlow. This launcher imports TensorFlow with descriptor 2
captured, drops exactly those lines (the patterns of `normalize.py`), writes
anything else back to the kernel's stderr, then starts ipykernel as usual.
Later C++ logging obeys TF_CPP_MIN_LOG_LEVEL, which the kernel spec sets.

    python notebooks/tools/quiet_kernel.py install DIR
        writes DIR/kernels/python3/kernel.json; with JUPYTER_PATH=DIR, Jupyter
        starts lessons (kernel "python3") through this launcher.
        `make lessons` and `make test` do this.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
KERNEL_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3"}


def install(directory) -> Path:
    """Writes the kernel spec (named python3, as the lessons ask) under `directory`."""
    spec_dir = Path(directory) / "kernels" / "python3"
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, str(Path(__file__).resolve()), "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "env": KERNEL_ENV,
        "metadata": {"debugger": True},
    }
    path = spec_dir / "kernel.json"
    path.write_text(json.dumps(spec, indent=1) + "\n", encoding="utf-8")
    return path


def import_tensorflow_quietly() -> None:
    sys.path.insert(0, str(TOOLS))
    from normalize import strip_tf_log

    sys.path.pop(0)
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow  # noqa: F401
        except ImportError:
            pass  # the kernel still starts; the lesson's own import will say what is missing
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
        captured.seek(0)
        rest = strip_tf_log(captured.read().decode("utf-8", errors="replace"))
    if rest.strip():
        sys.stderr.write(rest)
        sys.stderr.flush()


def launch_kernel() -> None:
    for name, value in KERNEL_ENV.items():
        os.environ.setdefault(name, value)
    # Importing TensorFlow imports matplotlib, which reads its backend then:
    # choose ipykernel's inline backend now, as ipykernel would at its start.
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    import_tensorflow_quietly()
    if sys.path and Path(sys.path[0]).resolve() == TOOLS:
        del sys.path[0]  # the lessons' kernel should not import these tools by accident
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


if __name__ == "__main__":
    if sys.argv[1:2] == ["install"]:
        print(install(sys.argv[2]))
    else:
        launch_kernel()
