"""The inspector's widget tree, from core ipywidgets only (7.7+ and 8).

HTML, Label, Button, Dropdown, Image, Tab and boxes render in JupyterLab,
Notebook 7, VS Code and Colab without a front-end extension. This module
only builds and closes widgets; what they show is decided by the inspector.
"""

from __future__ import annotations

TAB_TITLES = ("Variables", "Regularization", "Batch norm", "Calls")
VARIABLES_TAB, REGULARIZATION_TAB, BATCH_NORM_TAB, CALLS_TAB = range(4)


class Pager:
    """◀ previous · page i of n · next ▶ under a table."""

    def __init__(self, widgets, on_turn, extra=()):
        self.label = widgets.Label()
        self.previous_button = widgets.Button(description="◀ previous", layout={"width": "110px"})
        self.next_button = widgets.Button(description="next ▶", layout={"width": "110px"})
        self.previous_button.on_click(lambda _: on_turn(-1))
        self.next_button.on_click(lambda _: on_turn(+1))
        self.box = widgets.HBox([self.previous_button, self.label, self.next_button, *extra])
        self.all = [self.label, self.previous_button, self.next_button, self.box]

    def show(self, page: int, page_count: int):
        self.label.value = f"page {page + 1} of {page_count}"
        self.previous_button.disabled = page == 0
        self.next_button.disabled = page >= page_count - 1


class InspectorWidgets:
    def __init__(self, on_turn_page, on_turn_batch_norm_page, on_refresh, on_tab, on_select):
        import ipywidgets as widgets

        self.header = widgets.HTML()
        self.table = widgets.HTML()
        self.refresh_button = widgets.Button(description="refresh", layout={"width": "90px"})
        self.refresh_button.on_click(lambda _: on_refresh())
        self.pager = Pager(widgets, on_turn_page, extra=[self.refresh_button])
        self.losses = widgets.HTML()
        self.batch_norm = widgets.HTML()
        self.batch_norm_pager = Pager(widgets, on_turn_batch_norm_page)
        self.batch_norm_select = widgets.Dropdown(description="layer", options=[],
                                                  layout={"width": "420px"})
        self.batch_norm_select.observe(lambda change: on_select(change["new"]), names="value")
        self.batch_norm_plot = widgets.Image(format="png", layout={"max_width": "520px"})
        self.calls = widgets.HTML()
        pages = [
            widgets.VBox([self.table, self.pager.box]),
            self.losses,
            widgets.VBox([self.batch_norm, self.batch_norm_pager.box, self.batch_norm_select,
                          self.batch_norm_plot]),
            self.calls,
        ]
        self.tabs = widgets.Tab(children=pages)
        if self.tabs.has_trait("titles"):
            self.tabs.titles = TAB_TITLES
        else:  # ipywidgets 7 (Colab)
            for index, title in enumerate(TAB_TITLES):
                self.tabs.set_title(index, title)
        self.tabs.observe(lambda change: on_tab(change["new"]), names="selected_index")
        self.root = widgets.VBox([self.header, self.tabs])
        self.root.add_class("tf1kit-inspector-root")
        self._all = [self.header, self.table, self.refresh_button, *self.pager.all, self.losses,
                     self.batch_norm, *self.batch_norm_pager.all, self.batch_norm_select,
                     self.batch_norm_plot, self.calls, *pages[::2], self.tabs, self.root]

    def close(self):
        for widget in self._all:
            widget.close()
