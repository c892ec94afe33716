"""The PNG chart: ratios to native Keras 3, and the scaling curve."""

import matplotlib

matplotlib.use("Agg")  # no display in benchmark runs
import matplotlib.pyplot as plt  # noqa: E402

from benchmarks.report import LABELS  # noqa: E402
from benchmarks.summarize import COMPILED_FIGURES, EAGER_FIGURES  # noqa: E402

CHART_FIGURES = EAGER_FIGURES + COMPILED_FIGURES + (
    "gradient_step_b16_ms", "trace_forward_ms", "trace_train_step_ms")
COLORS = {"tf1kit": "tab:blue", "official": "tab:orange", "native": "tab:green"}


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
    width = 0.4
    for offset, world in ((-width / 2, "tf1kit"), (width / 2, "official")):
        heights = [_ratio_to_native(figures[n][f], world) for n, f in groups]
        axis.bar([i + offset for i in range(len(groups))], heights, width,
                 label=world, color=COLORS[world])
    axis.axhline(1.0, color=COLORS["native"], linestyle="--", label="native Keras 3 = 1")
    axis.axhline(1.2, color="gray", linestyle=":", linewidth=1, label="eager target 1.2x")
    axis.axhline(1.05, color="black", linestyle=":", linewidth=1,
                 label="tf.function target 1.05x (of the faster other world)")
    axis.set_xticks(range(len(groups)))
    axis.set_xticklabels([f"{n}\n{LABELS[f].split(' (')[0].replace('`', '')}" for n, f in groups],
                         rotation=90, fontsize=7)
    axis.set_ylabel("time / native Keras 3 time")
    axis.set_title("Median time / native Keras 3 median, separate processes (lower is faster)")
    axis.legend(fontsize=8)


def _ratio_to_native(by_world, world):
    mine, native = by_world.get(world), by_world.get("native")
    return mine / native if mine is not None and native else 0.0


def _scaling_lines(axis, scaling):
    for world, fit in scaling.items():
        axis.plot(fit["counts"], fit["eager_call_ms"], marker="o",
                  color=COLORS.get(world), label=f"{world} (R²={fit['r2']:.3f})")
    axis.set_xlabel("get_variable calls per forward pass")
    axis.set_ylabel("eager call (ms)")
    axis.set_title("Eager cost vs number of variables")
    axis.legend(fontsize=8)
