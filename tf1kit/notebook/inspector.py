"""`tf1kit.inspect(obj)`: a live view of the TF1-style variables of an object.

Built from core ipywidgets only (HTML, Image, Button, Tab, VBox), so it renders
in JupyterLab, Notebook 7, VS Code and Colab without a front-end extension.
The kernel pushes every update; no browser event is needed (none could arrive
while the kernel sits at a pdb prompt). The table is paginated so a model with
thousands of variables still renders quickly.
"""

from __future__ import annotations

import threading
import time

from tf1kit.notebook import hooks, render
from tf1kit.notebook.snapshot import shim_owners, take_snapshot

BATCH_NORM_HISTORY_LENGTH = 200
BATCH_NORM_TAB = 2


class Inspector:
    def __init__(self, obj, *, page_size: int = 50, min_interval: float = 0.0,
                 label: str | None = None):
        owners = shim_owners(obj)
        if not owners:
            raise TypeError(
                f"tf1kit.inspect: {_describe(obj)} is not a layer or module decorated "
                "with track_tf1_style_variables (or %%tf1layer), and contains none.")
        if page_size < 1:
            raise ValueError(f"tf1kit.inspect: page_size must be at least 1, got {page_size}.")
        self.target = obj
        self.owners = owners
        self.label = label or str(getattr(obj, "name", None) or type(obj).__name__)
        self.page_size = page_size
        self.min_interval = min_interval  # seconds between refreshes pushed after calls
        self.refresh_count = 0
        self.snapshot = None
        self.page = 0
        self._previous_values = {}
        self._batch_norm_history = {}
        self._last_refresh = -float("inf")
        self._build_widgets()
        hooks.attach(self, owners)
        self.refresh("opened")

    # -- what triggers a refresh --------------------------------------------
    def after_call(self):
        if time.monotonic() - self._last_refresh >= self.min_interval:
            self.refresh("after call")

    def refresh(self, reason: str = "refresh"):
        """Reads the variables again and pushes the new view to the front end."""
        if threading.current_thread() is not threading.main_thread():
            return  # TensorFlow state is read from the kernel's main thread only
        self.snapshot, self._previous_values = take_snapshot(self.owners, self._previous_values)
        self.refresh_count += 1
        self._last_refresh = time.monotonic()
        self._record_batch_norm()
        self._render(reason)

    def close(self):
        hooks.detach(self)
        self.widget.close()

    # -- for tests and scripts ------------------------------------------------
    def variable_names(self) -> list[str]:
        return [row.name for row in self.snapshot.rows]

    def row(self, name: str):
        for row in self.snapshot.rows:
            if row.name == name:
                return row
        raise KeyError(f"tf1kit.inspect: no variable named {name!r}; "
                       f"known: {self.variable_names()[:20]}")

    # -- widgets --------------------------------------------------------------
    def _build_widgets(self):
        import ipywidgets as widgets

        self.header = widgets.HTML()
        self.table = widgets.HTML()
        self.page_label = widgets.Label()
        self.previous_button = widgets.Button(description="◀ previous", layout={"width": "110px"})
        self.next_button = widgets.Button(description="next ▶", layout={"width": "110px"})
        self.refresh_button = widgets.Button(description="refresh", layout={"width": "90px"})
        self.previous_button.on_click(lambda _: self._turn_page(-1))
        self.next_button.on_click(lambda _: self._turn_page(+1))
        self.refresh_button.on_click(lambda _: self.refresh("refresh button"))
        pager = widgets.HBox([self.previous_button, self.page_label, self.next_button,
                              self.refresh_button])
        self.losses = widgets.HTML()
        self.batch_norm = widgets.HTML()
        self.batch_norm_plot = widgets.Image(format="png", layout={"max_width": "640px"})
        self.calls = widgets.HTML()
        self.tabs = widgets.Tab(children=[
            widgets.VBox([self.table, pager]), self.losses,
            widgets.VBox([self.batch_norm, self.batch_norm_plot]), self.calls])
        titles = ("Variables", "Regularization", "Batch norm", "Calls")
        if self.tabs.has_trait("titles"):
            self.tabs.titles = titles
        else:  # ipywidgets 7 (older Colab images)
            for index, title in enumerate(titles):
                self.tabs.set_title(index, title)
        self._plot_is_stale = False
        self.tabs.observe(self._render_plot, names="selected_index")
        self.widget = widgets.VBox([self.header, self.tabs])
        self.widget.add_class("tf1kit-inspector-root")
        # ipywidgets keeps open widgets alive; through the widget it keeps this
        # inspector alive too, so `display(tf1kit.inspect(m))` keeps updating.
        self.widget._tf1kit_inspector = self

    def _turn_page(self, step):
        # Re-renders the cached snapshot only: a click never reads TensorFlow state.
        self.page = min(max(0, self.page + step), self._page_count() - 1)
        self._render_table()

    def _page_count(self) -> int:
        rows = len(self.snapshot.rows) if self.snapshot else 0
        return max(1, -(-rows // self.page_size))

    def _render(self, reason):
        snapshot = self.snapshot
        self.header.value = render.header_html(self.label, snapshot, self.refresh_count, reason)
        self.page = min(self.page, self._page_count() - 1)
        self._render_table()
        self.losses.value = render.losses_html(snapshot)
        self.calls.value = render.calls_html(snapshot.calls)
        self.batch_norm.value = render.batch_norm_html(snapshot)
        self._plot_is_stale = True
        if self.tabs.selected_index == BATCH_NORM_TAB:
            self._render_plot()

    def _render_plot(self, change=None):
        # Drawing costs ~0.1 s, so it happens only while its tab is shown; the
        # history is cached, so a tab click never reads TensorFlow state.
        if not (self._plot_is_stale and self._batch_norm_history):
            return
        if change is not None and change["new"] != BATCH_NORM_TAB:
            return
        from tf1kit.notebook.plots import batch_norm_history_png

        self.batch_norm_plot.value = batch_norm_history_png(self._batch_norm_history)
        self._plot_is_stale = False

    def _render_table(self):
        start = self.page * self.page_size
        self.table.value = render.variables_html(self.snapshot.rows[start:start + self.page_size])
        self.page_label.value = f"page {self.page + 1} of {self._page_count()}"
        self.previous_button.disabled = self.page == 0
        self.next_button.disabled = self.page >= self._page_count() - 1

    def _record_batch_norm(self):
        for layer, stats in self.snapshot.batch_norm.items():
            mean, variance = stats.get("moving_mean"), stats.get("moving_variance")
            history = self._batch_norm_history.setdefault(layer, [])
            history.append((self.refresh_count,
                            float(mean.mean()) if mean is not None else float("nan"),
                            float(variance.mean()) if variance is not None else float("nan")))
            del history[:-BATCH_NORM_HISTORY_LENGTH]

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def _describe(obj) -> str:
    text = repr(obj)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{type(obj).__name__} {text}"
