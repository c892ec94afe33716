"""The batch-norm view of one layer, drawn with matplotlib to PNG bytes.

Three panels of a fixed size, whatever the model: the moving mean and the
moving variance per channel, and their means over the refreshes so far.
"""

from __future__ import annotations

import io

import numpy as np

FIGURE_SIZE = (6.4, 5.2)  # inches, at 80 dpi: 512 x 416 pixels
DPI = 80
BARS_UP_TO = 64  # channels; more are drawn as a line


def batch_norm_figure(layer: str, moving_mean, moving_variance, history):
    """history: [(refresh number, mean(moving_mean), mean(moving_variance))]."""
    # A bare Figure renders through Agg without touching pyplot's backend.
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=FIGURE_SIZE, dpi=DPI, layout="constrained")
    mean_axes, variance_axes, history_axes = figure.subplots(3, 1)
    for axes, values, title, color in (
            (mean_axes, moving_mean, "moving_mean per channel", "C0"),
            (variance_axes, moving_variance, "moving_variance per channel", "C1")):
        _per_channel(axes, values, title, color)
    mean_axes.set_title(f"{layer}\nmoving_mean per channel", fontsize=9)
    refreshes = [point[0] for point in history]
    history_axes.plot(refreshes, [p[1] for p in history], marker=".", color="C0",
                      label="mean(moving_mean)")
    history_axes.plot(refreshes, [p[2] for p in history], marker=".", color="C1",
                      label="mean(moving_variance)")
    history_axes.set_title("over refreshes", fontsize=9)
    history_axes.set_xlabel("refresh", fontsize=8)
    history_axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    if refreshes:  # at least one refresh wide, so the ticks stay whole numbers
        history_axes.set_xlim(min(refreshes) - 0.5, max(max(refreshes), min(refreshes) + 1) + 0.5)
    history_axes.tick_params(labelsize=7)
    # Beside the panels, never over a line.
    figure.legend(handles=history_axes.get_lines(), loc="outside lower center", ncols=2,
                  fontsize=7, frameon=False)
    return figure


def _per_channel(axes, values, title, color):
    from matplotlib.ticker import MaxNLocator

    axes.set_title(title, fontsize=9)
    axes.tick_params(labelsize=7)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # channels are whole numbers
    if values is None or len(values) == 0:
        axes.text(0.5, 0.5, "not created", ha="center", va="center", transform=axes.transAxes)
        return
    channels = np.arange(len(values))
    if len(values) <= BARS_UP_TO:
        axes.bar(channels, values, color=color, width=0.8)
    else:
        axes.plot(channels, values, color=color, linewidth=0.8)
    axes.set_xlim(-0.5 if len(values) <= BARS_UP_TO else 0, len(values) - 0.5)


def png_bytes(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
