"""The wheel ships every tf1kit package and the inspector's front-end assets."""

import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def read_pyproject() -> dict:
    try:
        import tomllib  # Python 3.11+
    except ModuleNotFoundError:  # Python 3.10: setuptools, the build backend, reads TOML
        from setuptools.config.pyprojecttoml import load_file

        return load_file(ROOT / "pyproject.toml")
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_subpackage_is_listed_in_pyproject():
    config = read_pyproject()["tool"]["setuptools"]
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "tf1kit").rglob("__init__.py")}
    listed = set(config["packages"])
    assert on_disk <= listed, f"add to [tool.setuptools] packages: {sorted(on_disk - listed)}"
    assert config["package-dir"]["tf1kit.widgets"] == "widgets"


def test_python_requirement_matches_the_oldest_python_the_code_runs_on():
    assert read_pyproject()["project"]["requires-python"] == ">=3.10"


def test_widget_assets_exist_for_the_package_data_globs():
    assets = [p.name for p in (ROOT / "widgets").iterdir() if p.suffix in (".css", ".html")]
    assert "inspector.css" in assets and len(assets) >= 2
