"""A link explanation as a waterfall chart: the match weight of two person mentions, comparison by comparison.

- `waterfall_figure(table, title=...)` -> a plotly Figure from the explanation table of `run.explain`
  (comparison, level, value_a, value_b, match_weight: the prior first, one bar per comparison and term-frequency
  adjustment, a `context` note when a cannot-link applied, the total last);
- `write_explanation_chart(store, a, b, path)` -> the chart written as a marked, self-contained HTML page
  (template `link_waterfall.html.j2`, plotly.js inlined: it opens offline) or a PNG (kaleido with Debian
  chromium), and audited (`link-explain-chart` in `audit_log`, through `exports.audit_export`).

Every text taken from the data (names, levels, values) is HTML-escaped before it reaches plotly, whose labels
understand a few tags (`<b>`, `<a href>`): a name written `<script>...` is drawn as those characters.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from workbench.errors import WorkbenchError
from workbench.render import text as escaped

CHART_SUFFIXES = (".html", ".png")
UP, DOWN, TOTAL = "#1b7837", "#b2182b", "#2c3e94"


def _weight(value) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value):
        return None
    return float(value)


def _label(row) -> str:
    level = row.get("level")
    level = "" if level is None or (isinstance(level, float) and math.isnan(level)) else str(level)
    return escaped(row["comparison"]) + (f"<br><i>{escaped(level[:40])}</i>" if level else "")


def _hover(row) -> str:
    parts = [f"<b>{escaped(row['comparison'])}</b>", escaped(row["level"])]
    if _weight(row["match_weight"]) is not None:
        parts.append(f"match weight {float(row['match_weight']):+.2f}")
    for side in ("a", "b"):
        value = row.get(f"value_{side}")
        if value is not None and not (isinstance(value, float) and math.isnan(value)):
            parts.append(f"{side.upper()}: {escaped(value)}")
    return "<br>".join(parts)


def waterfall_figure(table: pd.DataFrame, title: str = "Match weight by comparison"):
    """The waterfall of an explanation table: bars up (evidence for one person) and down (against), the total."""
    import plotly.graph_objects as go

    needed = {"comparison", "level", "match_weight"}
    if not needed <= set(table.columns):
        raise WorkbenchError(f"not an explanation table: needs columns {sorted(needed)}")
    rows = [r for _, r in table.iterrows() if _weight(r["match_weight"]) is not None]
    notes = [r for _, r in table.iterrows() if _weight(r["match_weight"]) is None]
    body = [r for r in rows if r["comparison"] != "total"]
    totals = [r for r in rows if r["comparison"] == "total"]
    ordered = body + totals
    measure = ["relative"] * len(body) + ["total"] * len(totals)
    fig = go.Figure(go.Waterfall(
        orientation="v", measure=measure, x=[_label(r) for r in ordered],
        y=[float(r["match_weight"]) if r["comparison"] != "total" else 0.0 for r in ordered],
        text=[f"{float(r['match_weight']):+.2f}" for r in ordered], textposition="outside", cliponaxis=False,
        hovertext=[_hover(r) for r in ordered], hoverinfo="text",
        increasing={"marker": {"color": UP}}, decreasing={"marker": {"color": DOWN}},
        totals={"marker": {"color": TOTAL}}, connector={"line": {"color": "#888", "width": 1}}))
    annotations = [{"text": escaped(f"{r['comparison']}: {r['level']}"), "xref": "paper", "yref": "paper",
                    "x": 0, "y": 1.02 + 0.06 * k, "showarrow": False, "xanchor": "left",
                    "font": {"color": DOWN}} for k, r in enumerate(notes)]
    fig.update_layout(title={"text": escaped(title)}, yaxis_title="match weight (log2 Bayes factor)",
                      xaxis_title="", showlegend=False, annotations=annotations, template="plotly_white",
                      margin={"l": 60, "r": 20, "t": 80 + 20 * len(notes), "b": 120}, height=520)
    fig.add_hline(y=0, line_color="#444", line_width=1)
    return fig


def _table_rows(table: pd.DataFrame) -> tuple[list[str], list[list]]:
    columns = ["comparison", "level", "value_a", "value_b", "match_weight"]
    rows = []
    for _, r in table.iterrows():
        weight = _weight(r["match_weight"])
        rows.append(["" if r.get(c) is None or (isinstance(r.get(c), float) and math.isnan(r.get(c))) else r.get(c)
                     for c in columns[:-1]] + ["" if weight is None else f"{weight:+.3f}"])
    return columns, rows


def explanation_html(table: pd.DataFrame, title: str, subtitle: str = "", notes=()) -> str:
    """The marked HTML page of a waterfall and its table (plotly.js inlined: no network needed to open it)."""
    from plotly.offline import get_plotlyjs

    from workbench.render import render, trusted

    fig = waterfall_figure(table, title=title)
    columns, rows = _table_rows(table)
    return render("link_waterfall.html.j2", title=title, subtitle=subtitle, notes=list(notes),
                  plotly_js=trusted(get_plotlyjs()), figure=json.loads(fig.to_json()), height=520,
                  columns=columns, rows=rows)


def write_png(fig, path: Path) -> Path:
    """The figure as a PNG through kaleido and Debian chromium (a one-line error when it cannot be drawn)."""
    import os

    from workbench import maps

    os.environ.setdefault("BROWSER_PATH", maps.chromium_executable())
    try:
        fig.write_image(str(path), format="png", width=1000, height=560, scale=1)
    except Exception as exc:  # noqa: BLE001 - kaleido/chromium failures are one line for the analyst
        Path(path).unlink(missing_ok=True)
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise WorkbenchError(f"{path}: the PNG could not be drawn ({reason})") from None
    return Path(path)


def write_explanation_chart(store, a, b, path, *, table: pd.DataFrame | None = None, purpose: str | None = None) -> dict:
    """Explain mentions a and b (latest run's model), write the waterfall to `path` (.html or .png), audit it.

    Returns {"path", "format", "rows", "total", "sha256", "bytes"}."""
    from workbench import exports
    from workbench.linkage.run import explain

    path = exports.check_output(path, CHART_SUFFIXES)
    table = explain(store, a, b) if table is None else table
    total = table.loc[table.comparison == "total", "match_weight"]
    total = float(total.iloc[0]) if len(total) else None
    title = f"Match weight of person mentions {a} and {b}"
    subtitle = "" if total is None else (f"total match weight {total:+.2f} (log2 Bayes factor); bars above zero are "
                                         "evidence for one person, below zero for two")
    notes = [f"{r.comparison}: {r.level}" for r in table.itertuples() if _weight(r.match_weight) is None]
    fmt = path.suffix.lower().lstrip(".")
    if fmt == "html":
        path.write_text(explanation_html(table, title, subtitle, notes), encoding="utf-8")
    else:
        write_png(waterfall_figure(table, title=title), path)
    record = exports.audit_export(store, "export", path, {"kind": "link-explain-chart", "format": fmt,
                                                          "mention_a": str(a), "mention_b": str(b),
                                                          "rows": int(len(table)), "total": total}, purpose)
    return {"path": str(path), "format": fmt, "rows": int(len(table)), "total": total,
            "sha256": record.get("sha256"), "bytes": record.get("bytes")}
