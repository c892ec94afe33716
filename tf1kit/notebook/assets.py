"""Front-end assets (CSS, HTML templates) from the `widgets/` directory.

In a source checkout they sit at `<repo>/widgets/`; an installed wheel ships
them as the `tf1kit.widgets` package (see pyproject.toml). Both are tried.
"""

from __future__ import annotations

import functools
import importlib.resources
import pathlib
import string


def _asset_dirs():
    try:
        yield importlib.resources.files("tf1kit.widgets")
    except ModuleNotFoundError:
        pass
    yield pathlib.Path(__file__).resolve().parents[2] / "widgets"


@functools.lru_cache(maxsize=None)
def read_asset(name: str) -> str:
    for directory in _asset_dirs():
        candidate = directory / name
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    raise FileNotFoundError(
        f"tf1kit: front-end asset {name!r} is missing; reinstall tf1kit "
        "(the wheel ships it as tf1kit/widgets/).")


def template(name: str) -> string.Template:
    return string.Template(read_asset(name))
