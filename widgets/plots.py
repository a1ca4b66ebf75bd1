"""Plotly figures that draw in JupyterLab AND in a Voila page, offline: every chart of the notebooks and dashboards
is shown through `figure_output` / `show` here.

Why: plotly's JupyterLab renderer (the jupyterlab-plotly mime extension, served from the venv by JupyterLab and
by Voila, so no CDN) draws a figure shown as a cell's own output, then stores a PNG copy back into that output
with `model.setData`. A Voila page's cell outputs have no setData, so every `fig.show()` there raised
"setData is not a function" on the page. An ipywidgets Output widget's outputs do have it: a figure placed in
an Output widget as plotly's mime bundle draws in both, with no page error. plotly.js itself comes from that
extension, never from a CDN; nothing here needs anywidget (FigureWidget) or kaleido.

    from widgets.plots import show, figure_output
    show(fig)                      # in a notebook cell, instead of fig.show()
    out = figure_output(fig)       # an Output widget to put in a panel; figure_output(fig, out) redraws in place
"""
from __future__ import annotations

import json

import ipywidgets as w

MIME = "application/vnd.plotly.v1+json"


def figure_bundle(fig) -> dict:
    """A plotly figure as one display_data output (plotly's mime type, and text for anything else)."""
    import plotly.io as pio

    spec = json.loads(pio.to_json(fig, validate=False))
    spec["config"] = {"displaylogo": False, "responsive": True, **(spec.get("config") or {})}
    title = ((spec.get("layout") or {}).get("title") or {}).get("text") or "figure"
    return {"output_type": "display_data", "metadata": {},
            "data": {MIME: spec, "text/plain": f"<plotly figure: {title}>"}}


def figure_output(fig, out: w.Output | None = None) -> w.Output:
    """`fig` drawn in an Output widget (a new one, or `out` with its previous figure replaced). The outputs are set
    directly, not captured with `with out:`, so it works from a widget callback in Voila too."""
    out = out if out is not None else w.Output()
    out.outputs = (figure_bundle(fig),) if fig is not None else ()
    return out


def show(fig) -> w.Output:
    """Display `fig` in a notebook cell so that it draws in JupyterLab and in Voila (see the module docstring)."""
    from IPython.display import display

    out = figure_output(fig)
    display(out)
    return out
