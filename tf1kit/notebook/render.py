"""HTML for the inspector's panes, from the templates in `widgets/`."""

from __future__ import annotations

import base64
import html
import math
import re

from tf1kit.notebook.assets import read_asset, template


def header_html(title, snapshot, refresh_count, reason) -> str:
    summary = f"{len(snapshot.rows)} variables, {snapshot.parameter_count:,} parameters"
    return template("header.html").substitute(
        css=read_asset("inspector.css"), title=html.escape(title),
        summary=html.escape(summary), refresh_count=refresh_count,
        reason=html.escape(reason))


def variables_html(rows) -> str:
    row_template = template("variable_row.html")
    lines = [row_template.substitute(_row_fields(row)) for row in rows]
    return template("variables_table.html").substitute(rows="\n".join(lines))


def _row_fields(row) -> dict:
    status = row.last_call
    row_class = ("tf1kit-created" if row.created_in_last_call
                 else "tf1kit-unused" if row.unused else "")
    changed = row.change is not None and row.change > 0
    return {
        "row_class": row_class, "name": html.escape(row.name), "owner": html.escape(row.owner),
        "shape": html.escape(str(list(row.shape))), "dtype": row.dtype,
        "trainable": "yes" if row.trainable else "no",
        "mean": _number(row.mean), "std": _number(row.std), "norm": _number(row.norm),
        "change": "" if row.change is None else _number(row.change),
        "change_class": "tf1kit-changed" if changed else "", "status": status,
    }


def losses_html(losses) -> str:
    """losses: (source, value) pairs, as the model adds them to training."""
    rows = [f"<tr><td class='tf1kit-name'>{html.escape(source)}</td><td>{_number(value)}</td></tr>"
            for source, value in losses]
    total = sum(value for _, value in losses)
    footer = (f"<div class='tf1kit-header'>total {_number(total)}</div>"
              if rows else "<div class='tf1kit-muted'>no regularization losses</div>")
    return template("simple_table.html").substitute(
        head="<th class='tf1kit-name'>source</th><th>loss</th>", rows="\n".join(rows),
        footer=footer)


def calls_html(calls) -> str:
    rows = []
    for entry in reversed(calls[-10:]):
        shapes = ", ".join(str(list(s)) if isinstance(s, tuple) else str(s)
                           for s in entry["input_shapes"])
        status_class = "" if entry["status"] in ("ok", "running") else "tf1kit-error"
        rows.append(
            f"<tr><td>{entry['index']}</td><td class='tf1kit-name'>{html.escape(entry['owner'])}</td>"
            f"<td>{html.escape(str(entry['training']))}</td><td>{html.escape(shapes)}</td>"
            f"<td class='{status_class}'>{html.escape(entry['status'])}</td></tr>")
    return template("simple_table.html").substitute(
        head="<th>#</th><th class='tf1kit-name'>owner</th><th>training</th>"
             "<th>input shapes</th><th>status</th>",
        rows="\n".join(rows),
        footer="" if rows else "<div class='tf1kit-muted'>no calls yet</div>")


def batch_norm_html(layers, means: dict, selected: str | None) -> str:
    """layers: the BatchNormLayers on this page; means: name -> (mean of moving_mean, ...)."""
    rows = []
    for layer in layers:
        mean, variance = means.get(layer.name, (None, None))
        row_class = "tf1kit-selected" if layer.name == selected else ""
        rows.append(
            f"<tr class='{row_class}' data-name=\"{html.escape(layer.name)}\">"
            f"<td class='tf1kit-name'>{html.escape(layer.name)}</td><td>{layer.channels}</td>"
            f"<td>{_number(mean)}</td><td>{_number(variance)}</td></tr>")
    return template("simple_table.html").substitute(
        head="<th class='tf1kit-name'>normalization layer</th><th>channels</th>"
             "<th>mean(moving_mean)</th><th>mean(moving_variance)</th>",
        rows="\n".join(rows),
        footer="" if rows else "<div class='tf1kit-muted'>no batch normalization</div>")


def static_html(header: str, body: str, where: str) -> str:
    """What a notebook viewer shows where the live widget cannot run (GitHub, a closed kernel)."""
    note = (f"<div class='tf1kit-inspector tf1kit-muted'>{html.escape(where)} &middot; "
            "a saved view: run the notebook for the live inspector</div>")
    # Viewers drop the <style> of a saved notebook; keep the names readable inline.
    body = re.sub(r"""class=(["'])tf1kit-name\1""",
                  """class="tf1kit-name" style="text-align: left; font-family: monospace\"""",
                  body)
    return f"<div class='tf1kit-static'>{header}{body}{note}</div>"


def png_image(png: bytes) -> str:
    if not png:
        return ""
    encoded = base64.b64encode(png).decode("ascii")
    return f"<img alt='batch-norm plot' src='data:image/png;base64,{encoded}'>"


def _number(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:.4g}"
