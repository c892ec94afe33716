"""`tf1kit.inspect(obj)`: a live view of the TF1-style variables of an object.

The kernel pushes every update; no browser event is needed (none could arrive
while the kernel sits at a pdb prompt). An open inspector must not slow the
model down, whatever the model's size and whichever tab is open:

* after a call, a refresh runs only while refreshing stays within
  `max_overhead` of the time since the calls began, counting one refresh
  kept in reserve for the end of the cell, and at most every `min_interval`;
  whatever was put off runs once when the cell ends;
* only the open tab is brought up to date, and only its visible page is
  measured, on the device (see `statistics.py`);
* the batch-norm plot is drawn at most every `PLOT_INTERVAL` seconds.

Example:

    view = tf1kit.inspect(model)          # or %tf1inspect model
    view                                  # display it
    model.fit(x, y, callbacks=[tf1kit.InspectorCallback()])
"""

from __future__ import annotations

import threading
import time

from tf1kit.notebook import hooks, render, statistics
from tf1kit.notebook.inspector_widgets import (
    BATCH_NORM_TAB, CALLS_TAB, REGULARIZATION_TAB, VARIABLES_TAB, InspectorWidgets)
from tf1kit.notebook.snapshot import Snapshot, regularization_losses, shim_owners, take_snapshot

BATCH_NORM_HISTORY_LENGTH = 200
PLOT_INTERVAL = 0.5  # seconds between two drawings of the batch-norm plot


class Inspector:
    """A live table of the TF1-style variables of a shim layer, module or model.

    Args:
        obj: a layer or `tf.Module` with a `track_tf1_style_variables` method
            (or a `%%tf1layer` class), or a Keras model or module holding some.
        page_size: variables per page of the Variables tab.
        batch_norm_page_size: layers per page of the Batch norm tab.
        min_interval: seconds between two refreshes triggered by calls.
        max_overhead: the share of the calls' time that refreshes may take
            (0.05: 5%), the refresh at the end of the cell included.
        label: the title (default: the object's name).
    """

    def __init__(self, obj, *, page_size: int = 50, batch_norm_page_size: int = 10,
                 min_interval: float = 0.25, max_overhead: float = 0.05,
                 label: str | None = None):
        owners = shim_owners(obj)
        if not owners:
            raise TypeError(
                f"tf1kit.inspect: {_describe(obj)} is not a layer or module decorated "
                "with track_tf1_style_variables (or %%tf1layer), and contains none.")
        for name, value in (("page_size", page_size),
                            ("batch_norm_page_size", batch_norm_page_size)):
            if value < 1:
                raise ValueError(f"tf1kit.inspect: {name} must be at least 1, got {value}.")
        if not 0 < max_overhead <= 1:
            raise ValueError(
                f"tf1kit.inspect: max_overhead is a share of call time in (0, 1], "
                f"got {max_overhead}.")
        self.target = obj
        self.owners = owners
        self.label = label or str(getattr(obj, "name", None) or type(obj).__name__)
        self.page_size = page_size
        self.batch_norm_page_size = batch_norm_page_size
        self.min_interval = min_interval
        self.max_overhead = max_overhead
        self.refresh_count = 0
        self.snapshot = Snapshot([], [], [])
        self.regularization = []  # (source, value) as of the last time the tab was shown
        self.page = 0
        self.batch_norm_page = 0
        self.selected_batch_norm = None
        self._reason = ""
        self._previous = {}  # device values of the last measured page, for "change"
        self._statistics = {}  # row key -> (mean, std, norm, change)
        self._batch_norm_means = {}  # layer -> (mean(moving_mean), mean(moving_variance))
        self._batch_norm_history = {}  # layer -> [(refresh, mean, variance)]
        self._channels = None  # (layer, moving_mean, moving_variance) as numpy vectors
        self._stale_tabs = set()
        self._owed = None  # the reason of a refresh put off to the end of the cell
        self._plot = None  # built when first drawn
        self._final = False
        self._plot_stale = False
        self._last_plot = -float("inf")
        self._window_start = None  # when the calls of the current cell began
        self._spent = 0.0  # seconds of refreshing since then
        self._last_cost = 0.0
        self._last_refresh = -float("inf")
        self._closed = False
        self._selecting = False
        self.view = InspectorWidgets(
            on_turn_page=self._turn_page, on_turn_batch_norm_page=self._turn_batch_norm_page,
            on_refresh=lambda: self.refresh("refresh button"), on_tab=self._show_tab,
            on_select=self._select_batch_norm)
        self.widget = self.view.root
        # ipywidgets keeps open widgets alive; through the widget it keeps this
        # inspector alive too, so `display(tf1kit.inspect(m))` keeps updating.
        self.widget._tf1kit_inspector = self
        hooks.attach(self, owners)
        self.refresh("opened")

    # -- what triggers a refresh --------------------------------------------
    def after_call(self):
        """A watched call returned: refresh now if the budget allows, else when the cell ends."""
        if self._closed:
            return
        now = time.monotonic()
        if self._window_start is None:  # the first call since the last cell ended
            self._window_start, self._spent = now, 0.0
        affordable = (self._spent + 2 * self._last_cost
                      <= self.max_overhead * (now - self._window_start))
        if affordable and now - self._last_refresh >= self.min_interval:
            self.refresh("after call")
        else:
            self._owe("after call")

    def refresh(self, reason: str = "refresh"):
        """Reads the variables again and pushes the new view to the front end."""
        if self._closed or threading.current_thread() is not threading.main_thread():
            return  # TensorFlow state is read from the kernel's main thread only
        start = time.perf_counter()
        self._owed = None
        self.snapshot = take_snapshot(self.owners)
        self.refresh_count += 1
        self._reason = reason
        self._stale_tabs = {VARIABLES_TAB, REGULARIZATION_TAB, BATCH_NORM_TAB, CALLS_TAB}
        self._record_selected_batch_norm()
        self._render_header()
        self._render_tab(self._selected_tab())
        cost = time.perf_counter() - start
        self._last_cost, self._last_refresh = cost, time.monotonic()
        self._spent += cost

    def relabel(self, reason: str):
        """Says why the view is what it is, without reading anything again."""
        if not self._closed:
            self._reason = reason
            self._render_header()

    def flush(self):
        """Runs what was put off (a refresh, a plot); IPython calls it after each cell."""
        self._final = True  # the cell is over: draw the plot now, whatever its pace
        try:
            if self._owed is not None:
                self.refresh(self._owed)
            elif self._plot_stale and self._selected_tab() == BATCH_NORM_TAB:
                self._draw_plot()
        finally:
            self._final = False
            self._window_start = None  # the next cell's calls start a new budget

    def close(self):
        """Stops watching and lets go of the model (the widget disappears)."""
        if self._closed:
            return
        self._closed = True
        hooks.detach(self)
        self.view.close()
        self.widget.__dict__.pop("_tf1kit_inspector", None)
        self.target, self.owners = None, []
        self.snapshot = Snapshot([], [], [])
        self._previous, self._statistics, self._channels, self._plot = {}, {}, None, None
        self._batch_norm_means, self._batch_norm_history = {}, {}

    # -- for tests and scripts ------------------------------------------------
    def variable_names(self) -> list[str]:
        self.flush()
        return [row.name for row in self.snapshot.rows]

    def row(self, name: str):
        """The row of TF1 variable `name`, measured now if it is not on screen."""
        self.flush()
        for row in self.snapshot.rows:
            if row.name == name:
                if row.mean is None:
                    measured, _ = statistics.page_statistics({row.key: row.variable}, {})
                    _fill(row, measured.get(row.key))
                return row
        raise KeyError(f"tf1kit.inspect: no variable named {name!r}; "
                       f"known: {self.variable_names()[:20]}")

    # the widgets tests and the browser drive
    table = property(lambda self: self.view.table)
    header = property(lambda self: self.view.header)
    tabs = property(lambda self: self.view.tabs)
    calls = property(lambda self: self.view.calls)
    losses = property(lambda self: self.view.losses)
    batch_norm = property(lambda self: self.view.batch_norm)
    batch_norm_plot = property(lambda self: self.view.batch_norm_plot)
    batch_norm_select = property(lambda self: self.view.batch_norm_select)
    refresh_button = property(lambda self: self.view.refresh_button)
    page_label = property(lambda self: self.view.pager.label)
    previous_button = property(lambda self: self.view.pager.previous_button)
    next_button = property(lambda self: self.view.pager.next_button)

    # -- rendering --------------------------------------------------------------
    def _selected_tab(self) -> int:
        index = self.view.tabs.selected_index
        return VARIABLES_TAB if index is None else index

    def _show_tab(self, index):
        if not self._closed and index in self._stale_tabs:
            self._render_tab(index)

    def _render_tab(self, index):
        self._stale_tabs.discard(index)
        if index == VARIABLES_TAB:
            self._render_variables(measure=True)
        elif index == REGULARIZATION_TAB:
            self.regularization = regularization_losses(self.target, self.owners)
            self.view.losses.value = render.losses_html(self.regularization)
        elif index == BATCH_NORM_TAB:
            self._render_batch_norm()
        elif index == CALLS_TAB:
            self.view.calls.value = render.calls_html(self.snapshot.calls)

    def _render_header(self):
        self.view.header.value = render.header_html(
            self.label, self.snapshot, self.refresh_count, self._reason)

    def _page_rows(self):
        page_count = _page_count(len(self.snapshot.rows), self.page_size)
        self.page = min(self.page, page_count - 1)
        start = self.page * self.page_size
        return self.snapshot.rows[start:start + self.page_size], page_count

    def _render_variables(self, measure):
        rows, page_count = self._page_rows()
        if measure:
            self._statistics, self._previous = statistics.page_statistics(
                {row.key: row.variable for row in rows}, self._previous)
        for row in rows:
            _fill(row, self._statistics.get(row.key))
        self.view.table.value = render.variables_html(rows)
        self.view.pager.show(self.page, page_count)

    def _turn_page(self, step):
        if self._closed:
            return
        self.page = max(0, self.page + step)
        self._render_variables(measure=True)

    # -- the batch-norm tab --------------------------------------------------------
    def _batch_norm_layer(self, name):
        for layer in self.snapshot.batch_norm:
            if layer.name == name:
                return layer
        return None

    def _record_selected_batch_norm(self):
        """Keeps the selected layer's history going whichever tab is open (two scalars)."""
        layers = self.snapshot.batch_norm
        if not layers:
            return
        if self._batch_norm_layer(self.selected_batch_norm) is None:
            self.selected_batch_norm = layers[0].name
        layer = self._batch_norm_layer(self.selected_batch_norm)
        [means] = statistics.channel_means([(layer.moving_mean, layer.moving_variance)])
        self._remember(layer.name, means)

    def _remember(self, name, means):
        self._batch_norm_means[name] = means
        history = self._batch_norm_history.setdefault(name, [])
        if not history or history[-1][0] != self.refresh_count:
            history.append((self.refresh_count, *means))
            del history[:-BATCH_NORM_HISTORY_LENGTH]

    def _render_batch_norm(self):
        layers = self.snapshot.batch_norm
        page_count = _page_count(len(layers), self.batch_norm_page_size)
        self.batch_norm_page = min(self.batch_norm_page, page_count - 1)
        start = self.batch_norm_page * self.batch_norm_page_size
        page = layers[start:start + self.batch_norm_page_size]
        measured = statistics.channel_means(
            [(layer.moving_mean, layer.moving_variance) for layer in page])
        for layer, means in zip(page, measured):
            self._remember(layer.name, means)
        self.view.batch_norm.value = render.batch_norm_html(
            page, self._batch_norm_means, self.selected_batch_norm)
        self.view.batch_norm_pager.show(self.batch_norm_page, page_count)
        names = [layer.name for layer in layers]
        if list(self.view.batch_norm_select.options) != names:
            self._selecting = True  # setting options fires a value change of its own
            try:
                self.view.batch_norm_select.options = names
                self.view.batch_norm_select.value = self.selected_batch_norm
            finally:
                self._selecting = False
        selected = self._batch_norm_layer(self.selected_batch_norm)
        if selected is not None:
            self._channels = (selected.name, statistics.host_vector(selected.moving_mean),
                              statistics.host_vector(selected.moving_variance))
            self._plot_stale = True
            self._draw_plot()

    def _turn_batch_norm_page(self, step):
        if self._closed:
            return
        self.batch_norm_page = max(0, self.batch_norm_page + step)
        self._render_batch_norm()

    def _select_batch_norm(self, name):
        if self._selecting or self._closed or name is None or name == self.selected_batch_norm:
            return
        self.selected_batch_norm = name
        self._render_batch_norm()
        self._draw_plot(force=True)  # the user asked for this one

    def _draw_plot(self, force=False):
        if not self._plot_stale or self._channels is None:
            return
        if not (force or self._final) and time.monotonic() - self._last_plot < PLOT_INTERVAL:
            hooks.refresh_after_cell(self)  # drawn when the cell ends, if not before
            return
        if self._plot is None:
            from tf1kit.notebook.plots import BatchNormPlot

            self._plot = BatchNormPlot()
        name, mean, variance = self._channels
        self._plot.update(name, mean, variance, self._batch_norm_history.get(name, []))
        self.view.batch_norm_plot.value = self._plot.png()
        self._plot_stale = False
        self._last_plot = time.monotonic()

    def _owe(self, reason):
        self._owed = reason
        hooks.refresh_after_cell(self)

    # -- display -----------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs):
        """The live widget, plus a static HTML copy for viewers without a kernel."""
        if hasattr(self.widget, "_repr_mimebundle_"):  # ipywidgets 8
            bundle = dict(self.widget._repr_mimebundle_(**kwargs))
        else:  # ipywidgets 7 displays through _ipython_display_; same view spec
            bundle = {"application/vnd.jupyter.widget-view+json": {
                "version_major": 2, "version_minor": 0, "model_id": self.widget.model_id}}
        bundle["text/plain"] = (f"tf1kit inspector: {self.label} "
                                f"({len(self.snapshot.rows)} variables)")
        bundle["text/html"] = self._static_html()
        return bundle

    def _static_html(self) -> str:
        """The open tab as plain HTML (its plot inlined), for a saved notebook."""
        tab = self._selected_tab()
        self._show_tab(tab)
        if tab == VARIABLES_TAB:
            body, where = self.view.table.value, self.view.pager.label.value
        elif tab == REGULARIZATION_TAB:
            body, where = self.view.losses.value, "Regularization"
        elif tab == BATCH_NORM_TAB:
            self.flush()  # a plot put off by its pace is drawn now
            body = self.view.batch_norm.value + render.png_image(
                bytes(self.view.batch_norm_plot.value or b""))
            where = f"Batch norm, {self.view.batch_norm_pager.label.value}"
        else:
            body, where = self.view.calls.value, "Calls"
        return render.static_html(self.view.header.value, body, where)


def _fill(row, measured):
    if measured is not None:
        row.mean, row.std, row.norm, row.change = measured


def _page_count(count: int, page_size: int) -> int:
    return max(1, -(-count // page_size))


def _describe(obj) -> str:
    text = repr(obj)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{type(obj).__name__} {text}"
