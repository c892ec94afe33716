"""Parsing the text options of `%%tf1layer`: `--args` and `--inputs`."""

from __future__ import annotations

import ast
import keyword

from IPython.core.error import UsageError

RESERVED = {"self", "training"}


def strip_quotes(text: str) -> str:
    """magic_arguments keeps quotes: `--args "units=3"` arrives as `"units=3"`."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def parse_constructor_args(text: str, namespace: dict) -> dict:
    """`"units=10, activation=tf.nn.relu"` -> {"units": 10, "activation": <fn>}."""
    text = strip_quotes(text)
    if not text.strip():
        return {}
    try:
        call = ast.parse(f"_({text})", mode="eval").body
    except SyntaxError as error:
        raise UsageError(
            f"--args {text!r} is not a list of name=value pairs ({error.msg}).") from None
    if call.args or any(keyword.arg is None for keyword in call.keywords):
        raise UsageError(
            f"--args {text!r}: every constructor argument needs a name and a default, "
            "as in --args \"units=10, activation='relu'\".")
    values = {}
    for item in call.keywords:
        check_identifier(item.arg, "--args")
        expression = ast.Expression(body=item.value)
        try:
            values[item.arg] = eval(compile(expression, "<--args>", "eval"), namespace)
        except Exception as error:
            raise UsageError(
                f"--args: the default of {item.arg!r} "
                f"({ast.unparse(item.value)}) failed: {type(error).__name__}: {error}") from None
    return values


def parse_input_names(text: str) -> tuple:
    names = tuple(n.strip() for n in strip_quotes(text).split(",") if n.strip())
    if not names:
        raise UsageError("--inputs needs at least one name, as in --inputs x or --inputs x,y.")
    for name in names:
        check_identifier(name, "--inputs")
    if len(set(names)) != len(names):
        raise UsageError(f"--inputs {','.join(names)}: names repeat.")
    return names


def check_identifier(name: str, option: str) -> None:
    if not name.isidentifier() or keyword.iskeyword(name):
        raise UsageError(f"{option}: {name!r} is not a valid Python name.")
    if name in RESERVED:
        raise UsageError(f"{option}: {name!r} is reserved inside the cell (self, training).")
