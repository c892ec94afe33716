"""The report in a notebook: a widget drawn from the report's data, with an HTML fallback.

Only the report's plain data is read (`VerifyReport.to_dict()`), never
TensorFlow state, so a report loaded back from JSON renders the same. The
widget is built from core ipywidgets (HTML and Image), which every front end
with a widget manager renders; where there is none (nbconvert, GitHub, a
JupyterLab without ipywidgets), the same content shows as static HTML.
"""

from __future__ import annotations

import base64
import html
import io

WORST_ROWS = 12
PLOTTED_NAMES = 6

_STYLE = """<style>
.tf1kit-verify { font-family: var(--jp-ui-font-family, sans-serif); font-size: 12px; }
.tf1kit-verify table { border-collapse: collapse; margin: 4px 0; }
.tf1kit-verify th, .tf1kit-verify td { border-bottom: 1px solid #ddd; padding: 2px 6px;
  text-align: right; white-space: nowrap; }
.tf1kit-verify th { background: #f3f3f3; }
/* table td.x: JupyterLab right-aligns output tables with a (0,2,1) selector. */
.tf1kit-verify table td:first-child, .tf1kit-verify table th:first-child { text-align: left; }
.tf1kit-verify table td.tf1kit-name, .tf1kit-verify table th.tf1kit-name { text-align: left;
  font-family: var(--jp-code-font-family, monospace); }
.tf1kit-verify table td.tf1kit-note, .tf1kit-verify table th.tf1kit-note { text-align: left;
  white-space: normal; color: #555; }
.tf1kit-verify .tf1kit-ok { color: #1b7f3b; font-weight: 600; }
.tf1kit-verify .tf1kit-failed { color: #b00020; font-weight: 600; }
.tf1kit-verify ul { margin: 2px 0 2px 18px; padding: 0; }
</style>"""


def summary_html(data: dict) -> str:
    status = "tf1kit-ok" if data["ok"] else "tf1kit-failed"
    failures, rows = len(data["failures"]), len(data["rows"])
    worlds = ", ".join(name if world["ran"] else f"{name} (did not run)"
                       for name, world in data["worlds"].items())
    if data["ok"]:
        text = f"OK: {rows} comparisons agree"
    else:
        text = f"FAILED: {failures} of {rows} comparisons differ"
        if data["divergences"]:
            first = data["divergences"][0]
            text += f"; first divergence {first['name']} at {first['stage']}"
    settings = data["settings"]
    detail = (f"worlds: {worlds} | steps {settings['steps']}, optimizer {settings['optimizer']}, "
              f"rtol {settings['rtol']}, atol {settings['atol']}")
    return (f"<div class='tf1kit-verify'><span class='{status}'>verify {_e(text)}</span>"
            f"<div>{_e(detail)}</div></div>")


def rows_html(data: dict) -> str:
    """The worst failures, or a count per stage and world when everything agrees."""
    if data["failures"]:
        lines = ["<tr><th>stage</th><th class='tf1kit-name'>name</th><th>world</th>"
                 "<th>max |diff|</th><th>max rel</th><th class='tf1kit-note'>note</th></tr>"]
        for row in data["failures"][:WORST_ROWS]:
            name = row["name"] + (f" ({row['native_name']})" if row.get("native_name") else "")
            lines.append(
                f"<tr><td>{_e(row['stage'])}</td><td class='tf1kit-name'>{_e(name)}</td>"
                f"<td>{_e(row['world'])}</td><td>{_number(row['max_abs_diff'])}</td>"
                f"<td>{_number(row['max_rel_diff'])}</td>"
                f"<td class='tf1kit-note'>{_e(row.get('note', ''))}</td></tr>")
        more = len(data["failures"]) - WORST_ROWS
        footer = f"<div>... and {more} more (report.failures)</div>" if more > 0 else ""
        return f"<div class='tf1kit-verify'><table>{''.join(lines)}</table>{footer}</div>"
    counts = {}
    for row in data["rows"]:
        counts.setdefault(row["stage"], {}).setdefault(row["world"], 0)
        counts[row["stage"]][row["world"]] += 1
    worlds = [name for name in data["worlds"] if any(name in c for c in counts.values())]
    lines = ["<tr><th class='tf1kit-name'>stage</th>"
             + "".join(f"<th>{_e(w)}</th>" for w in worlds) + "</tr>"]
    for stage in data["stages"]:
        if stage in counts:
            lines.append(f"<tr><td class='tf1kit-name'>{_e(stage)}</td>" + "".join(
                f"<td>{counts[stage].get(w, '')}</td>" for w in worlds) + "</tr>")
    return (f"<div class='tf1kit-verify'><div>comparisons that agree, per stage and world"
            f"</div><table>{''.join(lines)}</table></div>")


def notes_html(data: dict) -> str:
    items = [f"<li>not compared: {_e(item['what'])} ({_e(item['world'])}): {_e(item['why'])}</li>"
             for item in data["not_compared"]]
    items += [f"<li>{_e(note)}</li>" for note in data["notes"]]
    return f"<div class='tf1kit-verify'><ul>{''.join(items)}</ul></div>" if items else ""


def divergence_series(data: dict) -> dict:
    """name -> world -> [(stage, max |diff|)] over initial and the optimizer steps,
    for the variables that diverge at any of those stages (worst first)."""
    tracked = ["initial"] + [s for s in data["stages"] if s.startswith("step_")]
    failing = []
    for row in data["failures"]:
        if row["stage"] in tracked and row["max_abs_diff"] is not None \
                and row["name"] not in failing and row["name"] != "loss":
            failing.append(row["name"])
    series = {}
    for name in failing[:PLOTTED_NAMES]:
        for row in data["rows"]:
            if row["name"] == name and row["stage"] in tracked and row["max_abs_diff"] is not None:
                series.setdefault(name, {}).setdefault(row["world"], []).append(
                    (row["stage"], row["max_abs_diff"]))
    return series


def divergence_png(data: dict) -> bytes | None:
    """One small plot per divergent variable: max |diff| to TF1 across the steps."""
    series = divergence_series(data)
    if not series:
        return None
    from matplotlib.figure import Figure  # Agg, without touching pyplot's backend

    figure = Figure(figsize=(6.4, 1.7 * len(series)), dpi=80)
    order = ["initial"] + [s for s in data["stages"] if s.startswith("step_")]
    for index, (name, worlds) in enumerate(series.items(), start=1):
        axes = figure.add_subplot(len(series), 1, index)
        for world, points in worlds.items():
            xs = [order.index(stage) for stage, _ in points]
            ys = [max(value, 1e-12) for _, value in points]
            axes.plot(xs, ys, marker="o", label=world)
        axes.axhline(data["settings"]["atol"], color="#999", linestyle=":", linewidth=1)
        axes.set_yscale("log")
        axes.set_xticks(range(len(order)))
        axes.set_xticklabels(order, fontsize=7)
        axes.set_title(name, fontsize=9)
        axes.tick_params(labelsize=7)
        axes.legend(fontsize=7, loc="best")
    figure.supylabel("max |diff| to TF1", fontsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def report_html(data: dict, picture: bytes | None = None) -> str:
    """Everything the widget shows, as one static HTML fragment."""
    picture = divergence_png(data) if picture is None else picture
    # An ok report has no plot: no <img> at all (an empty one shows as broken).
    image = ("" if not picture else
             f"<img alt='difference across steps' src='data:image/png;base64,"
             f"{base64.b64encode(picture).decode('ascii')}'/>")
    return _STYLE + summary_html(data) + rows_html(data) + image + notes_html(data)


class ReportWidget:
    """The report as core ipywidgets: summary, worst rows, plot, notes."""

    def __init__(self, data: dict, picture: bytes | None = None):
        import ipywidgets as widgets

        self.data = data
        self.summary = widgets.HTML(_STYLE + summary_html(data))
        self.table = widgets.HTML(rows_html(data))
        picture = divergence_png(data) if picture is None else picture
        self.plot = widgets.Image(value=picture or b"", format="png",
                                  layout={"max_width": "640px",
                                          "display": "" if picture else "none"})
        self.notes = widgets.HTML(notes_html(data))
        self.widget = widgets.VBox([self.summary, self.table, self.plot, self.notes])
        self.widget.add_class("tf1kit-verify-root")

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def report_mimebundle(report) -> dict:
    data = report.to_dict()
    picture = divergence_png(data) or b""
    bundle = {"text/plain": str(report), "text/html": report_html(data, picture)}
    try:
        widget = ReportWidget(data, picture)
    except ImportError:  # no ipywidgets: the HTML is all there is
        return bundle
    widget_bundle = widget._repr_mimebundle_() or {}
    bundle.update({key: value for key, value in widget_bundle.items() if key != "text/plain"})
    return bundle


def _e(text) -> str:
    return html.escape(str(text))


def _number(value) -> str:
    return "" if value is None else f"{value:.3g}"
