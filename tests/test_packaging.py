"""The wheel ships every tf1kit package and the inspector's front-end assets."""

import pathlib
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_every_subpackage_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "tf1kit").rglob("__init__.py")}
    listed = set(config["packages"])
    assert on_disk <= listed, f"add to [tool.setuptools] packages: {sorted(on_disk - listed)}"
    assert config["package-dir"]["tf1kit.widgets"] == "widgets"


def test_widget_assets_exist_for_the_package_data_globs():
    assets = [p.name for p in (ROOT / "widgets").iterdir() if p.suffix in (".css", ".html")]
    assert "inspector.css" in assets and len(assets) >= 2
