"""Batch-norm moving statistics over calls, drawn to PNG bytes with matplotlib."""

from __future__ import annotations

import io


def batch_norm_history_png(history: dict) -> bytes:
    """history: layer -> list of (refresh index, mean(moving_mean), mean(moving_variance))."""
    # A bare Figure renders through Agg without touching pyplot's backend.
    from matplotlib.figure import Figure

    layers = list(history)
    figure = Figure(figsize=(6.4, 1.8 * max(1, len(layers))), dpi=80)
    for index, layer in enumerate(layers, start=1):
        axes = figure.add_subplot(len(layers), 1, index)
        points = history[layer]
        steps = [p[0] for p in points]
        axes.plot(steps, [p[1] for p in points], marker=".", label="mean(moving_mean)")
        axes.plot(steps, [p[2] for p in points], marker=".", label="mean(moving_variance)")
        axes.set_title(layer, fontsize=9)
        axes.tick_params(labelsize=7)
        axes.legend(fontsize=7, loc="best")
    figure.supxlabel("refresh", fontsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
