"""Run lessons top to bottom in a fresh kernel, store outputs, normalize.

    .venv/bin/python notebooks/tools/execute.py                  # every lesson
    .venv/bin/python notebooks/tools/execute.py notebooks/02_*.ipynb

The kernel is the lessons' own (`quiet_kernel.py`), as under `make lessons`
and nbval. Prints each lesson's wall-clock run time. A lesson that raises is
not written.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import nbclient
import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from normalize import lesson_paths, normalize_text  # noqa: E402
from quiet_kernel import install  # noqa: E402


def execute(path: Path, timeout: int = 300) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=timeout,
                            resources={"metadata": {"path": str(path.parent)}}).execute()
    elapsed = time.perf_counter() - start
    path.write_text(normalize_text(nbformat.writes(nb)), encoding="utf-8")
    return elapsed


def main(argv=None) -> int:
    paths = [Path(p) for p in (argv if argv is not None else sys.argv[1:])] or lesson_paths()
    kernels = tempfile.TemporaryDirectory(prefix="tf1kit-kernels-")
    install(kernels.name)
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        filter(None, [kernels.name, os.environ.get("JUPYTER_PATH")]))
    failed = 0
    for path in paths:
        try:
            print(f"{path.name}: {execute(path):.1f} s", flush=True)
        except Exception as exc:  # report and go on with the next lesson
            failed += 1
            print(f"{path.name}: FAILED\n{exc}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
