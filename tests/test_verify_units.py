"""verify's comparison, pairing and report pieces on hand-made recordings (no
worlds run): expected numbers computed from their definitions."""

import math

import numpy as np
import pytest

from tf1kit.verify import names, stages
from tf1kit.verify.compare import compare_values, significant
from tf1kit.verify.report import VerifyReport
from tf1kit.verify.rows import RowBuilder
from tf1kit.verify.world import WorldRun


def test_compare_values_follows_allclose_with_tf1_as_reference():
    reference = np.array([1.0, -2.0, 0.0])
    value = reference + np.array([1e-5, -3e-5, 2e-5])
    row = compare_values(reference, value, rtol=1e-5, atol=1e-5)
    assert row["max_abs_diff"] == pytest.approx(3e-5)
    # |diff| / max(|tf1|, atol): 3e-5 / 2 and 2e-5 / 1e-5.
    assert row["max_rel_diff"] == pytest.approx(2.0)
    # The worst element against atol + rtol * |tf1|: 2e-5 / 1e-5 for the zero.
    assert row["excess"] == pytest.approx(2.0) and row["ok"] is False
    assert np.allclose(value, reference, rtol=1e-5, atol=1e-5) is row["ok"]


@pytest.mark.parametrize("value, note", [
    (lambda r: r.T.copy(), "equals the transpose of the TF1 value"),
    (lambda r: 0.5 * r, "0.5 x the TF1 value"),
    (lambda r: np.zeros_like(r), "zero where TF1 is not"),
    (lambda r: r.reshape(2, 8), "shape [2, 8] where TF1 has [4, 4]"),
])
def test_hints_name_familiar_differences(value, note):
    reference = np.arange(16, dtype="float32").reshape(4, 4) - 5
    assert compare_values(reference, value(reference), 1e-5, 1e-5)["note"] == note


def test_nan_in_one_world_only_fails():
    row = compare_values(np.array([1.0, np.nan]), np.array([1.0, 2.0]), 1e-5, 1e-5)
    assert row["ok"] is False and row["note"] == "NaN in TF1 only"
    assert compare_values(np.array([np.nan]), np.array([np.nan]), 1e-5, 1e-5)["ok"]


def test_significant_keeps_json_numbers_short():
    assert significant(0.000123456789) == 0.0001235
    assert significant(math.inf) is None and significant(None) is None


def world(name, variables, values, optimizer=None, drew=True):
    run = WorldRun(name)
    run.variables = {n: {"shape": list(np.shape(v)), "trainable": True}
                     for n, v in variables.items()}
    run.values = values
    run.drew_initial_values = drew
    run.optimizer = optimizer or {}
    return run


def test_rows_compare_per_stage_and_note_noise_level_gradients():
    kernel = np.ones((2, 2), "float32")
    tf1 = world("tf1_graph", {"k": kernel, "b": np.zeros(2)}, {
        stages.INITIAL: {"k": kernel, "b": np.zeros(2)},
        stages.REGULARIZATION: {"regularization/k": np.float32(0.04),
                                "regularization/total": np.float32(0.04)},
        stages.GRADIENTS: {"k": np.full((2, 2), 1e-8), "b": None},
        stages.step(1): {"k": kernel, "b": np.zeros(2), "loss": np.float32(1.0)},
    }, optimizer={"class": "AdamOptimizer", "epsilon": 1e-8, "learning_rate": 0.001})
    native = world("native", {"kernel": kernel, "bias": np.zeros(2)}, {
        stages.INITIAL: {"kernel": kernel, "bias": np.zeros(2)},
        stages.REGULARIZATION: {"regularization/total": np.float32(0.0)},
        stages.GRADIENTS: {"kernel": np.full((2, 2), 2e-8), "bias": np.ones(2)},
        stages.step(1): {"kernel": kernel + 1e-3, "bias": np.zeros(2), "loss": np.float32(1.0)},
    }, optimizer={"class": "Adam", "epsilon": 1e-7, "learning_rate": 0.001})
    builder = RowBuilder(tf1, rtol=1e-5, atol=1e-5)
    builder.compare_world(native, pairs={"k": "kernel", "b": "bias"}, problems=[])
    rows = {(row["stage"], row["name"]): row for row in builder.rows}
    assert rows[(stages.REGULARIZATION, "regularization/k")]["note"] == (
        "not regularized here (TF1 regularizes it)")
    assert rows[(stages.GRADIENTS, "b")]["note"] == "no gradient in TF1"
    assert rows[(stages.GRADIENTS, "k")]["ok"]  # 1e-8 apart: under atol
    step = rows[(stages.step(1), "k")]
    assert step["max_abs_diff"] == pytest.approx(1e-3, rel=1e-4)  # float32 rounding
    assert step["native_name"] == "kernel"
    assert step["note"] == ("1.001 x the TF1 value; its TF1 gradient is below atol, perhaps "
                            "rounding noise, which adaptive optimizers (Adam) scale up to a "
                            "full step")
    setting = rows[(stages.OPTIMIZER, "optimizer/epsilon")]
    assert setting["note"] == "Adam has epsilon=1e-07, TF1's AdamOptimizer epsilon=1e-08"
    assert setting["max_rel_diff"] == pytest.approx(9.0)
    assert rows[(stages.OPTIMIZER, "optimizer/learning_rate")]["ok"]

    report = VerifyReport(
        rows=builder.rows, not_compared=builder.not_compared, worlds={
            "tf1_graph": {"ran": True}, "native": {"ran": True}},
        name_matches=[], notes=[], settings={"steps": 1, "rtol": 1e-5, "atol": 1e-5})
    assert report.first_divergence == {
        "regularization/k": stages.REGULARIZATION, "regularization/total": stages.REGULARIZATION,
        "b": stages.GRADIENTS,
        "optimizer/epsilon": stages.OPTIMIZER, "k": stages.step(1)}
    # Worst first: what has no number (missing) before the largest excess.
    assert [row["name"] for row in report.failures][:2] == ["b", "optimizer/epsilon"]


def test_pairing_prefers_scope_then_creation_order():
    shape = {"shape": [3, 3]}
    tf1 = {"net/conv2d/kernel": shape, "net/conv2d_1/kernel": shape,
           "net/dense/weights": {"shape": [9, 2]}, "net/dense/biases": {"shape": [2]}}
    native = {"block/conv_a/kernel": shape, "block/conv_b/kernel": shape,
              "head/fc/kernel": {"shape": [9, 2]}, "head/fc/bias": {"shape": [2]},
              "head/fc/extra": {"shape": [1]}}
    pairs, matches, problems = names.match(tf1, native)
    assert pairs == {"net/conv2d/kernel": "block/conv_a/kernel",
                     "net/conv2d_1/kernel": "block/conv_b/kernel",
                     "net/dense/weights": "head/fc/kernel", "net/dense/biases": "head/fc/bias"}
    assert problems == [{"name": "head/fc/extra", "world": "native",
                         "note": "native variable with no TF1 counterpart"}]
    # The scope path decides before the order does.
    pairs, _, _ = names.match({"a/dense/kernel": shape, "a/conv/kernel": shape},
                              {"conv/kernel": shape, "dense/kernel": shape})
    assert pairs == {"a/dense/kernel": "dense/kernel", "a/conv/kernel": "conv/kernel"}


def test_numbered_scopes_pair_by_their_number_before_their_order():
    shape = {"shape": [2]}
    tf1 = {"block/unit_1/bn/gamma": shape, "block/unit_2/bn/gamma": shape}
    native = {"unit_2/bn/gamma": shape, "unit_1/bn/gamma": shape}  # listed the other way
    pairs, _, _ = names.match(tf1, native)
    assert pairs == {"block/unit_1/bn/gamma": "unit_1/bn/gamma",
                     "block/unit_2/bn/gamma": "unit_2/bn/gamma"}
