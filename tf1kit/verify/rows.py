"""Turning the worlds' recordings into report rows, one per comparison.

Every world is compared with the reference world (the TF1 graph, or the shim
run eagerly when the TF1 world could not run), name by name, stage by stage.
Rows name values by their TF1 name; a native row also carries the native
name it was paired with.
"""

from __future__ import annotations

import math

import numpy as np

from tf1kit.verify import optimizers, stages
from tf1kit.verify.compare import compare_values

NOISE_NOTE = ("its TF1 gradient is below atol, perhaps rounding noise, which adaptive "
              "optimizers (Adam) scale up to a full step")
REGULARIZATION_PREFIX = "regularization/"
TOTAL_REGULARIZATION = REGULARIZATION_PREFIX + "total"


class RowBuilder:
    def __init__(self, reference, rtol, atol):
        self.reference = reference
        self.rtol, self.atol = rtol, atol
        self.rows = []
        self.not_compared = []

    def compare_world(self, world, pairs=None, problems=()):
        """pairs: reference name -> this world's name (None: by equal names)."""
        if pairs is None:
            pairs = {name: name for name in self.reference.variables if name in world.variables}
            problems = _structure_problems(self.reference, world)
        self._variables(world, pairs, problems)
        for stage in self._value_stages():
            expected = self.reference.values.get(stage)
            actual = world.values.get(stage)
            if stage == stages.INITIAL and (expected is None or actual is None):
                undrawn = world if actual is None else self.reference
                entry = {"what": f"initial values in {undrawn.name}", "world": undrawn.name,
                         "why": "verify used the object itself (it cannot be rebuilt) and "
                                "did not draw them; later stages start from the TF1 values"}
                if (undrawn.ran or undrawn.stage != stages.INITIAL) and (
                        entry not in self.not_compared):
                    self.not_compared.append(entry)
                continue
            if expected is None or actual is None:
                continue  # a world stopped before this stage; its error is reported
            for name, world_name in _stage_pairs(stage, pairs, expected, actual).items():
                self._value_row(world, stage, name, world_name, expected, actual)
            if stage == stages.FORWARD_TRAIN:
                self._dropout(world)
            if stage == stages.GRADIENTS:
                self._optimizer(world)

    def _value_stages(self):
        steps = sorted((s for s in self.reference.values if stages.is_step(s)),
                       key=lambda s: int(s[len(stages.STEP_PREFIX):]))
        return [stages.INITIAL, stages.FORWARD_EVAL, stages.REGULARIZATION,
                stages.FORWARD_TRAIN, stages.MOVING_STATS, stages.GRADIENTS, *steps]

    # -- stages -------------------------------------------------------------
    def _variables(self, world, pairs, problems):
        for problem in problems:
            self._add(stages.VARIABLES, problem["name"], world.name, _failed(problem["note"]))
            self.not_compared.append({"what": problem["name"], "world": world.name,
                                      "why": problem["note"]})
        for name, world_name in pairs.items():
            ours, theirs = self.reference.variables[name], world.variables[world_name]
            row = _passed()
            if list(ours["shape"]) != list(theirs["shape"]):
                row = _failed(f"shape {theirs['shape']} where TF1 has {ours['shape']}")
            elif ours["trainable"] != theirs["trainable"]:
                row = _failed(("trainable" if theirs["trainable"] else "not trainable")
                              + " here, " + ("trainable" if ours["trainable"] else
                                             "not trainable") + " in TF1")
            self._add(stages.VARIABLES, name, world.name, row, world_name)

    def _value_row(self, world, stage, name, world_name, expected, actual):
        in_reference, in_world = name in expected, world_name in actual
        reference_value, value = expected.get(name), actual.get(world_name)
        if stage == stages.REGULARIZATION:
            # A regularizer present in one world only compares against zero.
            row = compare_values(0.0 if reference_value is None else reference_value,
                                 0.0 if value is None else value, self.rtol, self.atol)
            if not row["ok"] and not in_world:
                row["note"] = "not regularized here (TF1 regularizes it)"
            elif not row["ok"] and not in_reference:
                row["note"] = "regularized here, not in TF1"
        elif not in_reference:
            row = _failed("computed here, not in TF1")
        elif not in_world:
            row = _failed("missing here")
        elif reference_value is None and value is None:
            row = {**_passed(), "note": "no gradient in either world"}
        elif reference_value is None or value is None:
            row = _failed("no gradient " + ("in TF1" if reference_value is None else "here"))
        else:
            row = compare_values(reference_value, value, self.rtol, self.atol)
            if not row["ok"] and stages.is_step(stage) and self._noise_level(name):
                row["note"] = "; ".join(filter(None, [row.get("note"), NOISE_NOTE]))
        self._add(stage, name, world.name, row, world_name)

    def _noise_level(self, name) -> bool:
        gradient = self.reference.values.get(stages.GRADIENTS, {}).get(name)
        return gradient is not None and np.max(np.abs(gradient), initial=0.0) < self.atol

    def _dropout(self, world):
        expected, actual = self.reference.dropout_rates, world.dropout_rates
        for index in range(max(len(expected), len(actual))):
            name = f"dropout[{index}].rate"
            if index >= len(expected):
                row = _failed(f"a dropout (rate {actual[index]}) here that TF1 does not have")
            elif index >= len(actual):
                row = _failed(f"TF1 applies a dropout (rate {expected[index]}) missing here")
            elif expected[index] is None or actual[index] is None:
                row = {**_passed(), "note": "the rate is not a constant"}
            else:
                row = compare_values(expected[index], actual[index], 0.0, 1e-9)
            self._add(stages.FORWARD_TRAIN, name, world.name, row)

    def _optimizer(self, world):
        ours, theirs = self.reference.optimizer, world.optimizer
        if not (ours and theirs):
            return
        different = {key: (a, b) for key, a, b in optimizers.differences(ours, theirs)}
        keys = [key for key in ours if key in theirs and key != "class"]
        for key in dict.fromkeys(keys + list(different)):
            if key not in different:
                row = _passed()
            else:
                a, b = different[key]
                row = _failed(f"{theirs['class']} has {key}={b}, TF1's {ours['class']} "
                              + (f"{key}={a}" if a is not None else "has no such setting"))
                if isinstance(a, (int, float)) and isinstance(b, (int, float)):
                    numbers = compare_values(a, b, 0.0, 0.0)
                    row.update(max_abs_diff=numbers["max_abs_diff"],
                               max_rel_diff=numbers["max_rel_diff"])
            self._add(stages.OPTIMIZER, f"optimizer/{key}", world.name, row)

    def _add(self, stage, name, world, row, world_name=None):
        entry = {"stage": stage, "name": name, "world": world, **row}
        if world_name is not None and world_name != name:
            entry["native_name"] = world_name
        self.rows.append(entry)


def _passed() -> dict:
    return {"ok": True, "max_abs_diff": None, "max_rel_diff": None, "excess": 0.0}


def _failed(note: str) -> dict:
    return {"ok": False, "max_abs_diff": None, "max_rel_diff": None, "excess": math.inf,
            "note": note}


def _structure_problems(reference, world) -> list:
    problems = [{"name": name, "note": "missing in this world"}
                for name in reference.variables if name not in world.variables]
    problems += [{"name": name, "note": "only in this world"}
                 for name in world.variables if name not in reference.variables]
    return problems


def _stage_pairs(stage, pairs, expected, actual) -> dict:
    """Reference name -> world name for the values of one stage."""
    if stage in (stages.FORWARD_EVAL, stages.FORWARD_TRAIN):
        return {name: name for name in dict.fromkeys([*expected, *actual])}
    if stage == stages.REGULARIZATION:
        mapped = {REGULARIZATION_PREFIX + a: REGULARIZATION_PREFIX + b for a, b in pairs.items()}
        mapped[TOTAL_REGULARIZATION] = TOTAL_REGULARIZATION
        chosen = {a: b for a, b in mapped.items() if a in expected or b in actual}
        taken = set(chosen.values())
        for name in actual:  # regularized variables with no TF1 counterpart
            if name not in taken:
                chosen[name] = name
        return chosen
    chosen = {a: b for a, b in pairs.items() if a in expected or b in actual}
    if stages.is_step(stage):
        chosen["loss"] = "loss"
    return chosen
