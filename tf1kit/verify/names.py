"""Which native variable holds which TF1 variable.

Native Keras 3 names (`conv2d/kernel`, `dense_1/bias`) rarely equal TF1 names
(`net/conv2d/kernel`, `resnet_v1/logits/biases`). Pairs come from, in order:
`name_map` (TF1 name -> native name, a dict or a function), equal names,
then the same kind of leaf (`weights` and `kernel` are the same kind, as are
`biases` and `bias`) with the same shape, preferring the most similar scope
path and, among equals, the same position in creation order. Every pair says
how it was made, so the report shows what was compared with what.
"""

from __future__ import annotations

import re

_LEAF_SYNONYMS = {"weights": "kernel", "w": "kernel", "biases": "bias", "b": "bias",
                  "offset": "beta", "scale": "gamma"}
_SCOPE_SYNONYMS = {"batchnorm": "bn", "batch_normalization": "bn", "batch_norm": "bn",
                   "fully_connected": "dense", "fc": "dense", "conv2d": "conv", "conv1d": "conv",
                   "conv3d": "conv", "convolution2d": "conv"}


def match(tf1_variables: dict, native_variables: dict, name_map=None, native_owner=""):
    """Pairs TF1 names with native names.

    tf1_variables / native_variables: name -> {"shape": [...], ...} in creation order.
    Returns (pairs: {tf1: native}, matches: [{"tf1", "native", "how"}], problems:
    [{"name", "world", "note"}]) where problems are names left unpaired.
    """
    pairs, matches, problems = {}, [], []
    taken = set()

    def pair(tf1_name, native_name, how):
        pairs[tf1_name] = native_name
        taken.add(native_name)
        matches.append({"tf1": tf1_name, "native": native_name, "how": how})

    for tf1_name, native_name in _explicit(name_map, tf1_variables, native_variables,
                                           native_owner, problems):
        pair(tf1_name, native_name, "name_map")
    for name in tf1_variables:
        if name not in pairs and name in native_variables and name not in taken:
            pair(name, name, "same name")
    remaining_native = [n for n in native_variables if n not in taken]
    groups = {}
    for name in remaining_native:
        groups.setdefault(_group(name, native_variables[name]), []).append(name)
    tf1_positions = {}
    for name in tf1_variables:
        tf1_positions.setdefault(_group(name, tf1_variables[name]), []).append(name)
    for name in tf1_variables:
        if name in pairs:
            continue
        key = _group(name, tf1_variables[name])
        candidates = [n for n in groups.get(key, []) if n not in taken]
        if not candidates:
            continue
        position = tf1_positions[key].index(name)
        native_order = groups[key]
        best = max(candidates, key=lambda n: (_scope_similarity(name, n),
                                              -abs(native_order.index(n) - position)))
        pair(name, best, "scope path and shape")
    for name, info in tf1_variables.items():
        if name not in pairs:
            problems.append({"name": name, "world": "native",
                             "note": "no native variable for it" + _near_miss(
                                 name, info, native_variables, taken)})
    for name in native_variables:
        if name not in taken:
            problems.append({"name": name, "world": "native",
                             "note": "native variable with no TF1 counterpart"})
    return pairs, matches, problems


def _explicit(name_map, tf1_variables, native_variables, native_owner, problems):
    if name_map is None:
        return []
    found = []
    items = ([(name, name_map(name)) for name in tf1_variables] if callable(name_map)
             else list(dict(name_map).items()))
    for tf1_name, native_name in items:
        if native_name is None:
            continue
        tf1_key = _strip(tf1_name)
        native_key = _native_key(_strip(native_name), native_variables, native_owner)
        if tf1_key not in tf1_variables:
            problems.append({"name": str(tf1_name), "world": "native",
                             "note": "name_map names no TF1 variable"})
        elif native_key is None:
            problems.append({"name": tf1_key, "world": "native",
                             "note": f"name_map points at {native_name!r}, which is not a "
                                     "native variable"})
        else:
            found.append((tf1_key, native_key))
    return found


def _strip(name: str) -> str:
    return name[:-2] if name.endswith(":0") else name


def _native_key(name, native_variables, owner):
    if name in native_variables:
        return name
    if owner and name.startswith(owner + "/") and name[len(owner) + 1:] in native_variables:
        return name[len(owner) + 1:]
    return None


def leaf_kind(name: str) -> str:
    leaf = name.rsplit("/", 1)[-1].lower()
    return _LEAF_SYNONYMS.get(leaf, leaf)


def _group(name, info):
    return leaf_kind(name), tuple(info["shape"])


def _scope_tokens(name: str, strip_numbers: bool = True) -> list:
    tokens = []
    for token in name.lower().split("/")[:-1]:
        if strip_numbers:  # Keras' automatic `dense_3`, TF1's `conv2d_1`
            token = re.sub(r"_\d+$", "", token)
        tokens.append(_SCOPE_SYNONYMS.get(token, token))
    return tokens


def _scope_similarity(tf1_name: str, native_name: str) -> tuple:
    """Scopes ending alike first, then shared scope names (numbered ones like
    `unit_2` count as exact first, then without their number)."""
    a, b = _scope_tokens(tf1_name), _scope_tokens(native_name)
    suffix = 0
    while suffix < min(len(a), len(b)) and a[-1 - suffix] == b[-1 - suffix]:
        suffix += 1
    exact = set(_scope_tokens(tf1_name, False)) & set(_scope_tokens(native_name, False))
    return suffix, len(exact), len(set(a) & set(b))


def _near_miss(name, info, native_variables, taken) -> str:
    shape = tuple(info["shape"])
    for other, other_info in native_variables.items():
        if other in taken or leaf_kind(other) != leaf_kind(name):
            continue
        other_shape = tuple(other_info["shape"])
        if len(shape) >= 2 and other_shape == shape[::-1]:
            return f" (native {other!r} has the transposed shape {list(other_shape)})"
        if other == name:
            return f" (native {other!r} has shape {list(other_shape)}, TF1 {list(shape)})"
    return ""
