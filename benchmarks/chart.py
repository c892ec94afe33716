"""The PNG chart: every world as a ratio to the raw-ops floor, and the scaling curve."""

import matplotlib

matplotlib.use("Agg")  # no display in benchmark runs
import matplotlib.pyplot as plt  # noqa: E402

from benchmarks.report import LABELS  # noqa: E402
from benchmarks.summarize import COMPILED_FIGURES, EAGER_FIGURES, FLOOR_LIMIT  # noqa: E402

CHART_FIGURES = EAGER_FIGURES + COMPILED_FIGURES + (
    "gradient_step_b16_ms", "trace_forward_ms", "trace_train_step_ms")
COLORS = {"tf1kit": "tab:blue", "official": "tab:orange", "native": "tab:green",
          "raw": "tab:gray"}
BAR_WORLDS = ("tf1kit", "official", "native")


def save_chart(summary: dict, path) -> None:
    figure, (ratios_axis, scaling_axis) = plt.subplots(
        1, 2, figsize=(15, 6), gridspec_kw={"width_ratios": [2.2, 1]})
    _ratio_bars(ratios_axis, summary["figures"])
    _scaling_lines(scaling_axis, summary["scaling"])
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _ratio_bars(axis, figures):
    groups = [(network, figure) for network in figures for figure in CHART_FIGURES]
    width = 0.27
    for index, world in enumerate(BAR_WORLDS):
        offset = (index - 1) * width
        heights = [_ratio_to_floor(figures[n][f], world) for n, f in groups]
        axis.bar([i + offset for i in range(len(groups))], heights, width,
                 label=world, color=COLORS[world])
    axis.axhline(1.0, color=COLORS["raw"], linestyle="--",
                 label="raw ops on tf.Variables = 1")
    axis.axhline(FLOOR_LIMIT, color="black", linestyle=":", linewidth=1,
                 label=f"eager target {FLOOR_LIMIT}x the floor")
    axis.set_xticks(range(len(groups)))
    axis.set_xticklabels([f"{n}\n{LABELS[f].split(' (')[0].replace('`', '')}" for n, f in groups],
                         rotation=90, fontsize=7)
    axis.set_ylabel("time / raw-ops time")
    axis.set_title("Median time / raw-ops median, separate processes (lower is faster)")
    axis.legend(fontsize=8)


def _ratio_to_floor(by_world, world):
    mine, floor = by_world.get(world), by_world.get("raw")
    return mine / floor if mine is not None and floor else 0.0


def _scaling_lines(axis, scaling):
    for world, fit in scaling.items():
        axis.plot(fit["counts"], fit["eager_call_ms"], marker="o",
                  color=COLORS.get(world), label=f"{world} (R²={fit['r2']:.3f})")
    axis.set_xlabel("get_variable calls per forward pass")
    axis.set_ylabel("eager call (ms)")
    axis.set_title("Eager cost vs number of variables")
    axis.legend(fontsize=8)
