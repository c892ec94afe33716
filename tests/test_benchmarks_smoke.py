"""The benchmark command still runs end to end (tiny sizes, one repetition).

Checks structure and that the numbers are positive; it deliberately asserts
nothing about speed: timings belong in benchmark results, not in tests.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
WORLDS = ("tf1kit", "official", "native", "raw")
NETWORKS = ("mlp", "resnet", "slim")
TIMED_FIGURES = (
    "eager_call_b1_ms", "eager_forward_b16_ms", "function_forward_b16_ms",
    "train_step_b16_ms", "trace_forward_ms", "trace_train_step_ms", "first_call_ms")


def run_quick_benchmark(out: Path) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--repetitions", "1",
         "--out", str(out)],
        cwd=REPO_ROOT, env=env, check=True, capture_output=True, text=True, timeout=600)
    return json.loads((out / "latest.json").read_text())


def test_quick_benchmark_writes_every_figure_for_every_world(tmp_path):
    result = run_quick_benchmark(tmp_path)
    summary = result["summary"]

    assert set(summary) >= {"figures", "imports", "scaling", "ratios", "paired", "targets"}
    for network in NETWORKS:
        for figure in TIMED_FIGURES:
            for world in WORLDS:
                assert summary["figures"][network][figure][world] > 0, (network, figure, world)
        # Same TF1 source in two worlds, rewritten for the other two: same variables.
        counts = summary["figures"][network]["variables"]
        assert counts["tf1kit"] == counts["official"] == counts["native"] == counts["raw"] > 0
        for figure, values in summary["paired"][network].items():
            assert values["tf1kit"] > 0 and values["native"] > 0 and values["raw"] > 0, (
                network, figure)
            assert values["tf1kit/raw"] == pytest.approx(values["tf1kit"] / values["raw"], rel=0.5)
        assert summary["ratios"][network]["eager_call_b1_ms"]["tf1kit/raw"] > 0
    assert summary["imports"]["import_tf1kit_ms"] > 0
    for world in WORLDS:
        assert summary["imports"]["import_tensorflow_ms"][world] > 0
        scaling = summary["scaling"][world]
        assert all(ms > 0 for ms in scaling["eager_call_ms"])
        assert "slope_ms_per_variable" in scaling and "r2" in scaling
    for suffix in ("md", "png"):
        assert (tmp_path / f"latest.{suffix}").stat().st_size > 0
