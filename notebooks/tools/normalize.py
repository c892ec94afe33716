"""Bring lesson notebooks into their stored form.

    python notebooks/tools/normalize.py            # normalize every lesson in place
    python notebooks/tools/normalize.py --check    # exit 1 if any lesson would change

The stored form keeps what a reader and nbval need (sources, outputs, the
kernel name) and drops what changes from run to run without meaning anything:
execution timestamps, the Python version in `language_info`, widget state,
cell ids chosen at random, and TensorFlow's C++ start-up log lines (they carry
a timestamp and a process id and land on stderr when TensorFlow is imported).
`tests/test_notebook_format.py` checks that every lesson is already in this form.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python"}
# Cell metadata worth keeping: tags (nbval reads "nbval-ignore-output" etc.) and
# Colab's form/cell settings are the only keys a lesson may use.
KEPT_CELL_METADATA = ("tags",)

# One line of TensorFlow / absl C++ logging, e.g.
# "I0000 00:00:1795306996.532391    7024 port.cc:153] oneDNN custom operations ..."
TF_LOG_LINE = re.compile(
    r"^(?:[IWEF]\d{4} \d\d:\d\d:[\d.]+\s+\d+ [\w./-]+:\d+\] .*"
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|To enable the following instructions: .* rebuild TensorFlow with the appropriate compiler flags\.)\n?",
    re.MULTILINE,
)


def strip_tf_log(text: str) -> str:
    return TF_LOG_LINE.sub("", text)


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else value


def normalize_output(output: dict) -> dict | None:
    kind = output["output_type"]
    if kind == "stream":
        text = _text(output["text"])
        if output["name"] == "stderr":
            text = strip_tf_log(text)
        if not text:
            return None
        return {"name": output["name"], "output_type": "stream", "text": text}
    if kind in ("display_data", "execute_result"):
        data = {k: _text(v) if k.startswith("text/") else v for k, v in output["data"].items()}
        # Widget views point at model ids that exist only in the kernel that made them.
        data.pop("application/vnd.jupyter.widget-view+json", None)
        if not data:
            return None
        new = {"data": data, "metadata": output.get("metadata", {}), "output_type": kind}
        if kind == "execute_result":
            new["execution_count"] = output.get("execution_count")
        return new
    if kind == "error":
        return {"ename": output["ename"], "evalue": output["evalue"],
                "output_type": "error", "traceback": output["traceback"]}
    raise ValueError(f"unknown output type {kind!r}")


def normalize_notebook(nb: dict) -> dict:
    cells = []
    count = 0
    for index, cell in enumerate(nb["cells"], start=1):
        kind = cell["cell_type"]
        meta = {k: cell["metadata"][k] for k in KEPT_CELL_METADATA if k in cell.get("metadata", {})}
        new = {"cell_type": kind, "id": f"c{index:02d}", "metadata": meta,
               "source": _text(cell["source"]).strip("\n")}
        if kind == "code":
            executed = cell.get("execution_count") is not None
            count += 1
            new["execution_count"] = count if executed else None
            outputs = []
            for output in cell.get("outputs", []):
                out = normalize_output(output)
                if out is None:
                    continue
                if "execution_count" in out:
                    out["execution_count"] = new["execution_count"]
                # Merge consecutive pieces of the same stream, as nbval does.
                if (out["output_type"] == "stream" and outputs
                        and outputs[-1]["output_type"] == "stream"
                        and outputs[-1]["name"] == out["name"]):
                    outputs[-1]["text"] += out["text"]
                else:
                    outputs.append(out)
            new["outputs"] = outputs
        cells.append(new)
    return {
        "cells": cells,
        "metadata": {"kernelspec": dict(KERNELSPEC), "language_info": dict(LANGUAGE_INFO)},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def dumps(nb: dict) -> str:
    """The one JSON layout lessons are stored in (nbformat's own layout)."""
    text = json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False)
    return text + "\n"


def _split_sources(nb: dict) -> dict:
    # nbformat stores multi-line strings as lists of lines; do the same so
    # diffs stay line-based.
    for cell in nb["cells"]:
        cell["source"] = cell["source"].splitlines(keepends=True)
        for out in cell.get("outputs", []):
            if "text" in out:
                out["text"] = out["text"].splitlines(keepends=True)
            for key, value in out.get("data", {}).items():
                if key.startswith("text/") and isinstance(value, str):
                    out["data"][key] = value.splitlines(keepends=True)
    return nb


def normalize_text(text: str) -> str:
    return dumps(_split_sources(normalize_notebook(json.loads(text))))


def lesson_paths(directory: Path = NOTEBOOK_DIR) -> list[Path]:
    return sorted(p for p in directory.glob("*.ipynb"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--check", action="store_true", help="only report notebooks that would change")
    args = parser.parse_args(argv)
    changed = []
    for path in args.paths or lesson_paths():
        old = path.read_text(encoding="utf-8")
        new = normalize_text(old)
        if new != old:
            changed.append(path)
            if not args.check:
                path.write_text(new, encoding="utf-8")
    for path in changed:
        print(("would change: " if args.check else "normalized: ") + str(path))
    return 1 if (args.check and changed) else 0


if __name__ == "__main__":
    sys.exit(main())
