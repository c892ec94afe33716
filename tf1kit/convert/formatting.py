"""Line wrapping for the generated source (calls broken at top-level commas)."""

from __future__ import annotations

import re

WIDTH = 99


def wrap(text: str, width: int = WIDTH) -> str:
    return "\n".join(_wrap_line(line, width) for line in text.split("\n"))


def _wrap_line(line: str, width: int) -> str:
    if len(line) <= width:
        return line
    # The call to break is the one whose bracket closes last, once the commas
    # and the brackets of enclosing lines (`LSTMCell(...)],`) are set aside.
    body = line.rstrip(",:")
    opening = _outer_call(body)
    while opening is None and body.endswith((")", "]", "}")) and len(body) > 1:
        body = body[:-1].rstrip(",")
        opening = _outer_call(body)
    if opening is None:
        return _wrap_operators(line, width)
    head, inner = body[:opening + 1], body[opening + 1:-1]
    tail = body[-1] + line[len(body):]
    indent = " " * (len(line) - len(line.lstrip()) + 4)
    pieces = _split_top_level(inner)
    rows, current = [], indent
    for index, piece in enumerate(pieces):
        piece = piece.strip() + ("," if index < len(pieces) - 1 else tail)
        if current != indent and len(f"{current} {piece}") > width:
            rows.append(current)
            current = indent + piece
        else:
            current = indent + piece if current == indent else f"{current} {piece}"
    rows.append(current)
    return "\n".join([head] + [_wrap_line(r, width) for r in rows])


def _outer_call(line: str):
    """Index of the bracket whose partner ends the line (a call or a list)."""
    if not line.endswith((")", "]", "}")):
        return None
    depth, quote = 0, None
    for index in range(len(line) - 1, -1, -1):
        char = line[index]
        if quote:
            if char == quote:
                quote = None
            continue
        if char in "\"'":
            quote = char
        elif char in ")]}":
            depth += 1
        elif char in "([{":
            depth -= 1
            if depth == 0:
                return index if char + line[-1] in ("()", "[]", "{}") else None
    return None


def _split_top_level(text: str) -> list:
    """`f(a, b), c` -> ["f(a, b)", " c"]: commas outside brackets and strings."""
    return [p for p in _split_outside_brackets(text, lambda rest: rest[0] == ",") if p.strip()]


def _split_outside_brackets(text: str, separator_at) -> list:
    """`text` cut, outside brackets and strings, where `separator_at(rest)` is
    true; the cut drops one character: a comma, or the space before an
    operator (" + b" leaves "+ b", the operator with its term)."""
    pieces, depth, quote, start = [], 0, None, 0
    for index, char in enumerate(text):
        if quote:
            if char == quote:
                quote = None
            continue
        if char in "\"'":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif depth == 0 and separator_at(text[index:]):
            pieces.append(text[start:index])
            start = index + 1
    pieces.append(text[start:])
    return pieces


_STATEMENT = re.compile(r"^(\s*)((?:[\w.]+(?:, [\w.]+)* = )|return )(.*)$")


def _wrap_operators(line: str, width: int) -> str:
    """`x = a * b + c - d` too long: parenthesized, one term a line, each
    continuation starting with its operator (+ or -, outside brackets)."""
    match = _STATEMENT.match(line)
    if match is None:
        return line
    indent, head, expression = match.groups()
    terms = _split_terms(expression)
    if len(terms) < 2:
        return line
    inner = indent + " " * 4
    rows = [f"{indent}{head}("] + [inner + term for term in terms]
    rows[-1] += ")"
    return "\n".join(_wrap_line(row, width) for row in rows)


def _split_terms(text: str) -> list:
    """`a + b - c` -> ["a", "+ b", "- c"], at the top level only."""
    terms = _split_outside_brackets(text, lambda rest: rest[:3] in (" + ", " - "))
    return [t.strip() for t in terms if t.strip()]
