"""Comparing one value of one world with the TF1 world's value of it.

A value passes when every element satisfies |value - tf1| <= atol + rtol*|tf1|
(numpy's `allclose`, with the TF1 value as reference). Each comparison also
records by how many times it exceeds that tolerance, which orders failures,
and a hint when the difference has a familiar shape (a transposed matrix, a
constant factor, zeros where TF1 has values).
"""

from __future__ import annotations

import math

import numpy as np


def compare_values(reference, value, rtol: float, atol: float) -> dict:
    """Compares two arrays; returns the numeric fields of a report row."""
    reference = np.asarray(reference)
    value = np.asarray(value)
    if reference.shape != value.shape:
        return {"ok": False, "max_abs_diff": None, "max_rel_diff": None, "excess": math.inf,
                "note": f"shape {list(value.shape)} where TF1 has {list(reference.shape)}"
                        + _transposed_shape_hint(reference, value)}
    if reference.size == 0:
        return {"ok": True, "max_abs_diff": 0.0, "max_rel_diff": 0.0, "excess": 0.0}
    if not (_is_number(reference) and _is_number(value)):
        same = bool(np.array_equal(reference, value))
        return {"ok": same, "max_abs_diff": None, "max_rel_diff": None,
                "excess": 0.0 if same else math.inf,
                **({} if same else {"note": "values differ"})}
    reference = reference.astype(np.float64)
    value = value.astype(np.float64)
    nan_reference, nan_value = np.isnan(reference), np.isnan(value)
    if not np.array_equal(nan_reference, nan_value):
        return {"ok": False, "max_abs_diff": None, "max_rel_diff": None, "excess": math.inf,
                "note": "NaN in " + ("this world" if nan_value.any() else "TF1") + " only"}
    finite = ~nan_reference
    if not finite.any():
        return {"ok": True, "max_abs_diff": 0.0, "max_rel_diff": 0.0, "excess": 0.0}
    difference = np.abs(value[finite] - reference[finite])
    magnitude = np.abs(reference[finite])
    with np.errstate(invalid="ignore"):
        excess = float(np.nanmax(difference / (atol + rtol * magnitude))) if (
            atol > 0 or rtol > 0) else (math.inf if difference.max() > 0 else 0.0)
        relative = float(np.nanmax(difference / np.maximum(magnitude, max(atol, 1e-30))))
    row = {"ok": bool(excess <= 1.0), "max_abs_diff": float(difference.max()),
           "max_rel_diff": relative, "excess": excess}
    if not row["ok"]:
        hint = "" if nan_reference.any() else _hint(reference, value, rtol, atol)
        if hint:
            row["note"] = hint
    return row


def _is_number(array) -> bool:
    return array.dtype.kind in "fiub"


def _transposed_shape_hint(reference, value) -> str:
    if reference.ndim >= 2 and value.shape == reference.shape[::-1]:
        return " (transposed)"
    return ""


def _hint(reference, value, rtol, atol) -> str:
    """A short guess at what kind of difference this is, or ''."""
    if not value.any() and reference.any():
        return "zero where TF1 is not"
    if reference.ndim == 2 and reference.shape[0] == reference.shape[1] > 1:
        if np.allclose(value, reference.T, rtol=rtol, atol=atol):
            return "equals the transpose of the TF1 value"
    flat_reference, flat_value = reference.ravel(), value.ravel()
    norm = float(flat_reference @ flat_reference)
    if norm > 0:
        factor = float(flat_reference @ flat_value) / norm
        if abs(factor - 1) > 1e-3 and np.allclose(flat_value, factor * flat_reference,
                                                  rtol=max(rtol, 1e-4), atol=atol):
            return f"{significant(factor)} x the TF1 value"
    return ""


def significant(value, digits: int = 4):
    """Rounds to `digits` significant digits: tiny float noise cannot change JSON."""
    if value is None:
        return None
    value = float(value)
    if value == 0 or not math.isfinite(value):
        return value if math.isfinite(value) else None
    return float(f"{value:.{digits}g}")
