"""Turns a `%%tf1layer` cell into a forward function with the cell's line numbers.

The cell is parsed as a function body: its statements keep the line numbers
they have in the notebook cell, the last bare expression becomes the return
value, and the code is compiled under a file name IPython knows, so tracebacks
and pdb show the cell's own lines instead of `<string>`.
"""

from __future__ import annotations

import ast
import linecache
import os
import re
import sys
import time


def running_cell_number(shell) -> int:
    """The execution count of the cell running now (the one that called the magic).

    IPython 9 moves `execution_count` on before the cell runs, IPython 7 after,
    so the number is read from the calling cell's own code name instead.
    """
    compiler = getattr(shell, "compile", None)
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        label = None
        if hasattr(compiler, "format_code_name"):  # IPython 8+: ("Cell", "In[12]")
            label = compiler.format_code_name(filename)
        match = re.search(r"In\[(\d+)\]", label[1]) if label else re.match(
            r"<ipython-input-(\d+)-", filename)  # IPython 7
        if match:
            return int(match.group(1))
        frame = frame.f_back
    return getattr(shell, "execution_count", 0) or 0


def transform_cell(shell, cell: str) -> str:
    """IPython syntax (`%time`, `!ls`) to Python, keeping every line where it was."""
    transform = getattr(shell, "transform_cell", None)
    if transform is None:
        return cell
    lines = cell.splitlines(True)
    blank = 0  # IPython drops leading blank lines; put them back so line numbers hold
    while blank < len(lines) and not lines[blank].strip():
        blank += 1
    return "\n" * blank + transform("".join(lines[blank:]))


def cache_cell_source(shell, source: str) -> str:
    """Registers `source` with IPython's compiler cache; returns its file name."""
    compiler = getattr(shell, "compile", None)
    if compiler is not None and hasattr(compiler, "cache"):
        number = running_cell_number(shell)
        try:
            filename = compiler.cache(source, number)  # IPython 7.34, 8 and 9
        except TypeError:
            filename = compiler.cache(source)
        _mirror_to_disk(filename, source)
        return filename
    # No IPython: put the source in linecache ourselves.
    filename = f"<tf1layer-{time.monotonic_ns()}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return filename


def _mirror_to_disk(filename: str, source: str) -> None:
    """ipykernel names cells like files (/tmp/ipykernel_<pid>/<hash>.py).

    IPython's traceback printer shows only one line of a function whose file it
    cannot open, so the cell is written there too (as ipykernel's debugger
    does). Pseudo names such as <ipython-input-3-...> need nothing.
    """
    if filename.startswith("<") or not os.path.isabs(filename) or os.path.exists(filename):
        return
    try:
        os.makedirs(os.path.dirname(filename), exist_ok=True)
        with open(filename, "w", encoding="utf-8") as handle:
            handle.write(source)
    except OSError:
        pass  # tracebacks then show less context; nothing else depends on it


def parse_cell(cell: str, filename: str, first_line: int = 2) -> list[ast.stmt]:
    """Parses the cell body; line `first_line` is where the body starts."""
    padded = "\n" * (first_line - 1) + cell
    tree = ast.parse(padded, filename=filename)
    body = tree.body or [ast.Pass(lineno=first_line, col_offset=0)]
    last = body[-1]
    if isinstance(last, ast.Expr):
        body[-1] = ast.copy_location(ast.Return(value=last.value), last)
    return body


def build_forward(body, filename, function_name, input_names, arg_names, namespace):
    """Compiles `body` into `def f(self, *inputs, training=None, *, args)`.

    Globals are the user's namespace, so names the cell uses (`tf`, helper
    functions) resolve live, as they would in a normal cell.
    """
    arguments = ast.arguments(
        posonlyargs=[],
        args=[ast.arg(arg="self"), *(ast.arg(arg=n) for n in input_names),
              ast.arg(arg="training")],
        vararg=None,
        kwonlyargs=[ast.arg(arg=n) for n in arg_names],
        kw_defaults=[None for _ in arg_names],
        kwarg=None,
        defaults=[ast.Constant(value=None)],
    )
    function = ast.FunctionDef(
        name=function_name, args=arguments, body=body, decorator_list=[],
        returns=None, type_comment=None, lineno=1, col_offset=0)
    if "type_params" in ast.FunctionDef._fields:  # Python 3.12+
        function.type_params = []
    module = ast.Module(body=[function], type_ignores=[])
    ast.fix_missing_locations(module)
    code = compile(module, filename, "exec")
    defined = {}
    exec(code, namespace, defined)
    return defined[function_name]
