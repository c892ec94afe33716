"""The batch-norm view of one layer, drawn with matplotlib to PNG bytes.

Three panels of a fixed size, whatever the model: the moving mean and the
moving variance per channel, and their means over the refreshes so far. The
figure is built once per inspector and only its data change between drawings
(building it costs several times more than drawing it).
"""

from __future__ import annotations

import io

import numpy as np

FIGURE_SIZE = (6.4, 4.8)  # inches, at 80 dpi: 512 x 384 pixels
DPI = 80


class BatchNormPlot:
    def __init__(self):
        # A bare Figure renders through Agg without touching pyplot's backend.
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator

        self.figure = Figure(figsize=FIGURE_SIZE, dpi=DPI)
        FigureCanvasAgg(self.figure)
        self.mean_axes, self.variance_axes, self.history_axes = self.figure.subplots(3, 1)
        self.figure.subplots_adjust(left=0.1, right=0.97, top=0.93, bottom=0.15, hspace=0.7)
        # One filled step patch per panel, a bar per channel: cheap to update for
        # 3 channels or 2048 (separate bars would be one artist each).
        self.mean_steps = self.mean_axes.stairs([0], [-0.5, 0.5], fill=True, color="C0")
        self.variance_steps = self.variance_axes.stairs([0], [-0.5, 0.5], fill=True, color="C1")
        self.history_mean, = self.history_axes.plot([], [], color="C0", marker=".",
                                                    label="mean(moving_mean)")
        self.history_variance, = self.history_axes.plot([], [], color="C1", marker=".",
                                                        label="mean(moving_variance)")
        for axes in (self.mean_axes, self.variance_axes, self.history_axes):
            # Channels and refreshes are whole numbers.
            axes.xaxis.set_major_locator(MaxNLocator(nbins=8, integer=True))
            axes.yaxis.set_major_locator(MaxNLocator(nbins=3))
            axes.tick_params(labelsize=7)
        self.variance_axes.set_title("moving_variance per channel", fontsize=9)
        self.history_axes.set_title("mean over channels, per refresh", fontsize=9)
        self.history_axes.set_xlabel("refresh", fontsize=8, labelpad=1)
        # Below the panels, never over a line.
        self.figure.legend(handles=[self.history_mean, self.history_variance],
                           loc="lower center", ncols=2, fontsize=7, frameon=False)

    def update(self, layer: str, moving_mean, moving_variance, history):
        """history: [(refresh number, mean(moving_mean), mean(moving_variance))]."""
        self.mean_axes.set_title(f"{layer}: moving_mean per channel", fontsize=9)
        for axes, steps, values in ((self.mean_axes, self.mean_steps, moving_mean),
                                    (self.variance_axes, self.variance_steps, moving_variance)):
            values = np.zeros(0) if values is None else np.asarray(values, dtype=float)
            edges = np.arange(len(values) + 1) - 0.5
            steps.set_data(values if len(values) else [0], edges if len(values) else [-0.5, 0.5])
            axes.set_xlim(-0.5, max(len(values), 1) - 0.5)
            _fit_y(axes, values, from_zero=True)
        refreshes = np.array([point[0] for point in history], dtype=float)
        means = np.array([point[1] for point in history], dtype=float)
        variances = np.array([point[2] for point in history], dtype=float)
        self.history_mean.set_data(refreshes, means)
        self.history_variance.set_data(refreshes, variances)
        if len(refreshes):  # at least one refresh wide, so the ticks stay whole numbers
            low, high = refreshes.min(), max(refreshes.max(), refreshes.min() + 1)
            self.history_axes.set_xlim(low - 0.5, high + 0.5)
        _fit_y(self.history_axes, np.concatenate([means, variances]))
        return self.figure

    def png(self) -> bytes:
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png")
        return buffer.getvalue()


def _fit_y(axes, values, from_zero=False):
    finite = values[np.isfinite(values)] if len(values) else values
    if not len(finite):
        axes.set_ylim(0, 1)
        return
    low, high = float(finite.min()), float(finite.max())
    if from_zero:  # bars start at zero
        low, high = min(low, 0.0), max(high, 0.0)
    pad = 0.08 * (high - low) if high > low else max(abs(high) * 0.1, 0.1)
    axes.set_ylim(low - pad, high + pad)


def batch_norm_figure(layer: str, moving_mean, moving_variance, history):
    """A fresh figure of one layer (what the inspector draws, for tests and scripts)."""
    return BatchNormPlot().update(layer, moving_mean, moving_variance, history)
