"""The lessons in notebooks/ are stored in their small, stable form.

`notebooks/tools/normalize.py` defines that form; these tests check that
every lesson is already in it, so re-running or re-saving a lesson only
changes the diff where something real changed. No TensorFlow needed.
"""

import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
sys.path.insert(0, str(NOTEBOOKS / "tools"))
from normalize import lesson_paths, normalize_text, strip_tf_log  # noqa: E402

MAX_OUTPUT_BYTES = 64 * 1024
MAX_NOTEBOOK_BYTES = 256 * 1024
IGNORE_MARKER = re.compile(r"^#\s*NBVAL_IGNORE_OUTPUT\s*$", re.MULTILINE)

LESSONS = lesson_paths(NOTEBOOKS)


def _load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def _code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def _src(cell):
    return "".join(cell["source"])


def test_there_is_a_numbered_series():
    names = [p.name for p in LESSONS]
    assert len(names) >= 12, names
    for index, name in enumerate(names, start=1):
        assert re.fullmatch(rf"{index:02d}_[a-z0-9_]+\.ipynb", name), name


def test_the_index_lists_every_lesson_once():
    """notebooks/README.md's table is the lessons' index: one row per lesson, in order."""
    index = (NOTEBOOKS / "README.md").read_text(encoding="utf-8")
    listed = re.findall(r"^\| `(\d\d_[a-z0-9_]+)` \|", index, re.MULTILINE)
    assert listed == [p.stem for p in LESSONS]


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_normalizing_again_changes_nothing(path):
    text = path.read_text(encoding="utf-8")
    assert normalize_text(text) == text, (
        f"{path.name} is not normalized: run `python notebooks/tools/normalize.py`")


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_no_per_run_metadata(path):
    nb = _load(path)
    assert "widgets" not in nb["metadata"]
    assert set(nb["metadata"]) <= {"kernelspec", "language_info"}
    assert "version" not in nb["metadata"].get("language_info", {})
    for cell in nb["cells"]:
        assert "execution" not in cell["metadata"], "execution timestamps are stripped"
        assert set(cell["metadata"]) <= {"tags"}


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_executed_top_to_bottom_once(path):
    counts = [c["execution_count"] for c in _code_cells(_load(path))]
    assert counts == list(range(1, len(counts) + 1)), counts
    for cell in _code_cells(_load(path)):
        for out in cell["outputs"]:
            if out["output_type"] == "execute_result":
                assert out["execution_count"] == cell["execution_count"]


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_outputs_are_small_and_clean(path):
    assert path.stat().st_size <= MAX_NOTEBOOK_BYTES
    for cell in _code_cells(_load(path)):
        for out in cell["outputs"]:
            assert len(json.dumps(out)) <= MAX_OUTPUT_BYTES, _src(cell)[:80]
            assert out["output_type"] != "error", f"stored error in: {_src(cell)[:80]}"
            if out["output_type"] == "stream":
                text = "".join(out["text"])
                assert strip_tf_log(text) == text, "TensorFlow log lines are stripped"
            assert "application/vnd.jupyter.widget-state+json" not in out.get("data", {})


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_every_ignored_output_says_why(path):
    """nbval honours a marker only alone on its line; the reason goes on the next one."""
    from nbval.plugin import find_comment_markers

    for cell in _code_cells(_load(path)):
        source = _src(cell)
        lines = source.splitlines()
        for index, line in enumerate(lines):
            if "NBVAL_" in line:
                # A marker nbval does not read would compare the output after all.
                assert list(find_comment_markers(line)), f"nbval ignores the marker {line!r}"
            if IGNORE_MARKER.match(line.strip()):
                reason = lines[index + 1].lstrip("# ").strip(" ()") if index + 1 < len(lines) else ""
                assert lines[index + 1].startswith("#") and len(reason) >= 10, (
                    f"NBVAL_IGNORE_OUTPUT without a reason on the next line in: {source[:80]}")
        tags = cell["metadata"].get("tags", [])
        if any(t.startswith("nbval-ignore") or t.startswith("nbval-skip") for t in tags):
            assert IGNORE_MARKER.search(source) or "# nbval:" in source, (
                "a cell excluded by tag carries a comment saying why")


def _readme_repository() -> str:
    """The repository URL the README's Install section tells users to install from."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Install"):]
    return re.search(r"@ (git\+https://\S+?)\"", section).group(1)


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_runs_in_colab_and_quiet_here(path):
    cells = _code_cells(_load(path))
    first = _src(cells[0])
    assert '"google.colab" in sys.modules' in first and "%pip install" in first
    # Installs from the project's own repository (tf1kit is not on PyPI) and says so.
    assert f'"tf1kit @ {_readme_repository()}"' in first
    assert "not on PyPI" in first and "README" in first
    # TF_CPP_MIN_LOG_LEVEL is set before the first TensorFlow import.
    for cell in cells:
        src = _src(cell)
        if "import tensorflow" in src:
            assert "TF_CPP_MIN_LOG_LEVEL" in src
            assert src.index("TF_CPP_MIN_LOG_LEVEL") < src.index("import tensorflow")
            break


WIDGET_REPR = re.compile(r"^(VBox|HBox|Tab|HTML|Output|Image)\(")


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_widgets_are_stored_with_a_view_that_renders_without_a_kernel(path):
    """A stored widget shows its static HTML (GitHub, a closed kernel), not a repr."""
    for cell in _code_cells(_load(path)):
        source = _src(cell)
        shows_inspector = re.search(r"^\s*%tf1inspect\b|inspect\(", source, re.M)
        for out in cell["outputs"]:
            data = out.get("data", {})
            plain = "".join(data.get("text/plain", ""))
            assert not WIDGET_REPR.match(plain), f"widget stored as its repr in: {source[:80]}"
            if plain.startswith("tf1kit inspector:"):
                html = "".join(data.get("text/html", ""))
                assert "tf1kit-static" in html and "data-name=" in html, source[:80]
        results = [out for out in cell["outputs"] if out["output_type"] == "execute_result"]
        if shows_inspector and results:
            assert all("tf1kit-static" in "".join(out["data"].get("text/html", ""))
                       for out in results), f"no stored inspector view in: {source[:80]}"
