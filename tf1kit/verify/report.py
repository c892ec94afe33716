"""`VerifyReport`: what `tf1kit.verify` found, as plain data.

The same data serves pytest (`assert_equivalent`), CI (`to_json()`, stable:
sorted keys, rounded numbers, no timings or addresses) and notebooks (a
widget drawn from this data by `view.py`, with an HTML fallback).
"""

from __future__ import annotations

import json
import math

from tf1kit.verify import stages
from tf1kit.verify.compare import significant

SCHEMA = "tf1kit.verify/1"
WORST_SHOWN = 10


class VerifyReport:
    """The result of `tf1kit.verify`.

    Attributes:
        ok: True when every comparison passed and every world ran.
        rows: every comparison made: dicts with `stage`, `name` (the TF1 name),
            `world`, `ok`, `max_abs_diff`, `max_rel_diff`, `excess` (times over
            the tolerance) and, where useful, `note` and `native_name`.
        failures: the rows that failed, worst first.
        first_divergence: name -> the first stage at which it diverges.
        divergences: [{"name", "stage", "worlds"}] in stage order.
        not_compared: [{"what", "world", "why"}]: what could not be compared.
        worlds: world -> {"description", "ran", "error", "failed_stage",
            "drew_initial_values", "optimizer", "notes"}.
        name_matches: how TF1 names were paired with native names.
        notes: what the reader should know about how values were compared.
        settings: the arguments verify ran with.
    """

    def __init__(self, *, rows, not_compared, worlds, name_matches, notes, settings,
                 timings=None, tracebacks=None):
        self.settings = settings
        self.stages = stages.stage_order(settings["steps"])
        order = {stage: index for index, stage in enumerate(self.stages)}
        self.rows = [_rounded(row) for row in rows]
        failed = [row for row in self.rows if not row["ok"]]
        self.failures = sorted(failed, key=lambda row: (
            -_excess(row), order.get(row["stage"], 99), row["world"], row["name"]))
        self.not_compared = not_compared
        self.worlds = worlds
        self.name_matches = name_matches
        self.notes = notes
        self.divergences = _divergences(failed, order)
        self.first_divergence = {entry["name"]: entry["stage"] for entry in self.divergences}
        self.ok = not failed and all(world["ran"] for world in worlds.values())
        self.timings = timings or {}  # seconds per world: not part of the JSON
        self.tracebacks = tracebacks or {}  # world -> traceback text: not part of the JSON

    # -- data -----------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "schema": SCHEMA, "ok": self.ok, "settings": self.settings, "stages": self.stages,
            "worlds": self.worlds, "name_matches": self.name_matches, "rows": self.rows,
            "failures": self.failures, "divergences": self.divergences,
            "not_compared": self.not_compared, "notes": self.notes,
        }

    def to_json(self, indent: int | None = 2) -> str:
        """The report as JSON: the same run gives the same text (for CI diffs)."""
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True, allow_nan=False)

    def rows_for(self, name: str) -> list:
        """Every comparison of one variable or tensor, in stage order."""
        return [row for row in self.rows if row["name"] == name]

    # -- text -----------------------------------------------------------------
    def summary(self) -> str:
        compared = len(self.rows)
        failed_worlds = [name for name, world in self.worlds.items() if not world["ran"]]
        if self.ok:
            text = (f"verify: OK - {compared} comparisons across "
                    f"{len(self.worlds)} worlds agree (rtol={self.settings['rtol']}, "
                    f"atol={self.settings['atol']})")
        elif self.failures:
            text = f"verify: FAILED - {len(self.failures)} of {compared} comparisons differ"
            if self.divergences:
                first = self.divergences[0]
                text += (f"; first divergence: {first['name']} at stage {first['stage']} "
                         f"({', '.join(first['worlds'])})")
            if failed_worlds:
                text += f"; worlds that did not run: {', '.join(failed_worlds)}"
        else:
            text = (f"verify: FAILED - worlds that did not run: {', '.join(failed_worlds)}; "
                    f"the {compared} comparisons made agree")
        if self.not_compared:
            text += f"; {len(self.not_compared)} not compared"
        return text

    def describe_failures(self, limit: int = WORST_SHOWN) -> str:
        lines = []
        for name, world in self.worlds.items():
            if not world["ran"]:
                lines.append(f"  world {name} failed at stage {world['failed_stage']}: "
                             f"{world['error']}")
        for row in self.failures[:limit]:
            lines.append("  " + format_row(row))
        if len(self.failures) > limit:
            lines.append(f"  ... and {len(self.failures) - limit} more")
        return "\n".join(lines)

    def __str__(self):
        parts = [self.summary()]
        if not self.ok:
            parts.append(self.describe_failures())
        parts += [f"  not compared: {item['what']} ({item['world']}): {item['why']}"
                  for item in self.not_compared[:WORST_SHOWN]]
        parts += [f"  note: {note}" for note in self.notes]
        return "\n".join(parts)

    def __repr__(self):
        return f"<VerifyReport {'ok' if self.ok else 'FAILED'}: {self.summary()}>"

    # -- notebook -------------------------------------------------------------
    def _repr_html_(self):
        from tf1kit.verify.view import report_html

        return report_html(self.to_dict())

    def _repr_mimebundle_(self, include=None, exclude=None):
        """The widget where a widget manager runs, and HTML where it does not."""
        from tf1kit.verify.view import report_mimebundle

        return report_mimebundle(self)


def format_row(row) -> str:
    where = f"[{row['stage']}] {row['name']}"
    if row.get("native_name"):
        where += f" (native {row['native_name']})"
    numbers = ""
    if row.get("max_abs_diff") is not None:
        numbers = f": max |diff| {row['max_abs_diff']:.3g}, max rel {row['max_rel_diff']:.3g}"
    note = f" - {row['note']}" if row.get("note") else ""
    return f"{where} in {row['world']}{numbers}{note}"


def _excess(row) -> float:
    value = row.get("excess")
    return math.inf if value is None else value


def _rounded(row) -> dict:
    out = dict(row)
    for key in ("max_abs_diff", "max_rel_diff", "excess"):
        if key in out:
            out[key] = significant(out[key], 4)
    return out


def _divergences(failed, order) -> list:
    first = {}
    for row in failed:
        rank = order.get(row["stage"], 99)
        current = first.get(row["name"])
        if current is None or rank < current[0]:
            first[row["name"]] = (rank, row["stage"], {row["world"]})
        elif rank == current[0]:
            current[2].add(row["world"])
    entries = sorted(first.items(), key=lambda item: (item[1][0], item[0]))
    return [{"name": name, "stage": stage, "worlds": sorted(worlds)}
            for name, (_, stage, worlds) in entries]
