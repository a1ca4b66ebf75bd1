"""Cross-border views (workbench.crossborder.views): figures and the route map from a hand-made analysis (counts
checked by hand, names holding markup escaped), the pages offline in headless Chromium, and `render_group` /
`crossborder render|tactics` on the quick linked sample world (the one tests/test_crossborder_accuracy.py uses)."""
from __future__ import annotations

import json
import re

import duckdb
import numpy as np
import pandas as pd
import pytest

from tests.cli_helpers import invoke, one_line_error
from workbench.crossborder import (CrossBorder, Series, crossborder_settings, find_runs, flows, forces_table,
                                   home_base, lead_force)
from workbench.crossborder import views
from workbench.crossborder.signatures import signatures_from_frames
from workbench.crossborder.trends import trends_from_frames

XSS_STORE = '<script>alert("wb-xss-store")</script>'
XSS_CHAIN = '<img src=x onerror="window.__wbXss=1">'
XSS_TOWN = "Leeds & <b>Headingley</b>"
XSS_FORCE = '<img src=x onerror="window.__wbXssForce=1">'      # a force name as a hostile store might hold it
INC_COLUMNS = ["incident_id", "crime_number", "force_code", "stated_force_code", "force_name", "store_id",
               "store_name", "town", "chain", "chain_name", "sector", "occurred_at", "offence_type", "value_gbp",
               "offenders_count", "violence", "latitude", "longitude", "persons", "juveniles", "vehicles", "referrals"]
PLACES = {"13": ("West Yorkshire", 53.80, -1.55), "14": ("South Yorkshire", 53.38, -1.47),
          "30": ("Derbyshire", 53.235, -1.42)}


def raw_markup(page: str) -> bool:
    """Whether a name's markup reached the page unescaped (also inside JSON, where quotes become \\" and folium
    writes <, > and & as \\u003c, \\u003e, \\u0026: undone first, so only HTML escaping counts)."""
    for code, char in (("\\u003c", "<"), ("\\u003e", ">"), ("\\u0026", "&")):
        page = page.replace(code, char)
    return bool(re.search(r'<script>alert\(\\?"wb-xss-store|<img src=x onerror|<b>Headingley', page))


def _incident(iid, force, when, name=XSS_STORE, violence=False, dlat=0.0):
    force_name, lat, lon = PLACES[force]
    return (iid, f"{force}/{iid}", force, force, force_name, f"S{iid}", name, XSS_TOWN if force == "13" else "Town",
            "BRM", XSS_CHAIN, "supermarket", pd.Timestamp(when) if when else None, "shoplifting", 250.0, 3, violence,
            lat + dlat, lon, 3, 0, 1, 1)


def _analysis():
    """Two runs south down the M1 (Leeds > Sheffield > Chesterfield on Monday 3 March 2025; Leeds > Sheffield on
    Saturday 8 March), a single visit, and one incident with no time."""
    rows = [_incident(1, "13", "2025-03-03 10:00"), _incident(2, "14", "2025-03-03 11:30", violence=True),
            _incident(3, "30", "2025-03-03 13:00"), _incident(4, "13", "2025-03-08 10:15"),
            _incident(5, "14", "2025-03-08 11:45"), _incident(6, "30", "2025-03-20 22:05", dlat=0.01),
            _incident(7, "14", None)]
    inc = pd.DataFrame(rows, columns=INC_COLUMNS)
    tac = pd.DataFrame([(i, "RUSH", "method") for i in range(1, 8)] + [(i, "ALCOHOL", "target") for i in range(1, 8)],
                       columns=["incident_id", "tactic_code", "kind"])
    cfg = crossborder_settings()
    sig = signatures_from_frames(inc, tac, cfg)
    series = Series("GR00042", "group", XSS_STORE, sig, pd.DataFrame(columns=["incident_id", "tied_by", "entity_id"]))
    runs = find_runs(sig, "GR00042", cfg)
    stores = pd.DataFrame({"store_id": ["S1"], "town": [XSS_TOWN], "latitude": [53.8], "longitude": [-1.55],
                           "force_code": ["13"]})
    home = home_base(runs.runs, stores, 15.0)
    table = forces_table(sig, runs.route, home.force_code.iloc[0])
    return CrossBorder(series, runs, home, table, flows(runs.legs), lead_force(table, cfg["lead_force"]["weights"]))


@pytest.fixture(scope="module")
def cb():
    return _analysis()


def _texts(fig) -> str:
    """Every string in a figure (labels, hover texts, titles), one a line."""
    found = []

    def walk(value):
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, (list, tuple, np.ndarray)):
            for v in value:
                walk(v)

    walk(fig.to_plotly_json())
    return "\n".join(found)


def test_hand_made_analysis_is_what_the_views_assume(cb):
    assert len(cb.runs.runs) == 2 and cb.runs.runs.incidents.tolist() == [3, 2]
    assert cb.flows.set_index(["from_force", "to_force"]).legs.to_dict() == {("13", "14"): 2, ("14", "30"): 1}


def test_timeline_one_marker_per_timed_incident_runs_joined_names_escaped(cb):
    fig = views.timeline_figure(cb)
    traces = {t.name: t for t in fig.data}
    assert len(traces["incident in a run"].x) == 5 and len(traces["single visit"].x) == 1    # no-time one left out
    line = traces["run (same-day chain)"]
    assert sum(x is not None for x in line.x) == 5 and sum(x is None for x in line.x) == 2  # two runs, in order
    assert len(traces["violence or threats"].x) == 1
    assert set(traces["incident in a run"].y) == {"13 West Yorkshire", "14 South Yorkshire", "30 Derbyshire"}
    assert list(fig.layout.yaxis.categoryarray)[-1] == "13 West Yorkshire"    # first seen at the top
    text = _texts(fig)
    assert "wb-xss-store" in text and XSS_STORE not in text and "&lt;script&gt;" in text
    assert "<b>Headingley" not in text and "&amp; &lt;b&gt;Headingley" in text


def test_timeline_force_categories_escaped(cb):
    hostile = CrossBorder(cb.series, cb.runs, cb.home, cb.forces.assign(force_name=XSS_FORCE), cb.flows, cb.lead)
    fig = views.timeline_figure(hostile)
    ys = {y for t in fig.data if t.y is not None for y in t.y if y is not None}
    assert ys == {f"{code} &lt;img src=x onerror=&#34;window.__wbXssForce=1&#34;&gt;" for code in ("13", "14", "30")}
    assert set(fig.layout.yaxis.categoryarray) == ys
    assert XSS_FORCE not in _texts(fig)


def test_flow_matrix_and_sankey_counted_by_hand(cb):
    matrix = views.flow_matrix_frame(cb.flows)
    assert matrix.loc["13", "14"] == 2 and matrix.loc["14", "30"] == 1 and matrix.to_numpy().sum() == 3
    assert list(matrix.index) == list(matrix.columns) == ["13", "14", "30"]
    names = views.force_labels(cb) | {"30": "30 <i>Derbys</i>"}
    heat = views.flow_matrix_figure(cb.flows, names).data[0]
    assert np.asarray(heat.z).sum() == 3 and "30 &lt;i&gt;Derbys&lt;/i&gt;" in heat.x
    sankey = views.flow_sankey_figure(cb.flows, names).data[0]
    assert sum(sankey.link.value) == 3 and len(sankey.node.label) == 4     # from 13, from 14 | to 14, to 30
    labels = list(sankey.node.label)
    pairs = {(labels[s], labels[t]): v for s, t, v in zip(sankey.link.source, sankey.link.target, sankey.link.value)}
    assert pairs == {("from 13 West Yorkshire", "to 14 South Yorkshire"): 2,
                     ("from 14 South Yorkshire", "to 30 &lt;i&gt;Derbys&lt;/i&gt;"): 1}
    empty = views.flow_sankey_figure(cb.flows.iloc[0:0])
    assert not empty.data and "no run leg" in empty.layout.annotations[0].text


def test_day_hour_matrix_by_hand(cb):
    grid = views.day_hour_frame(cb.series.incidents)
    assert grid.shape == (7, 24) and grid.to_numpy().sum() == 6          # the incident with no time left out
    assert grid.loc["Mon", 10] == 1 and grid.loc["Mon", 11] == 1 and grid.loc["Mon", 13] == 1
    assert grid.loc["Sat", 10] == 1 and grid.loc["Sat", 11] == 1 and grid.loc["Thu", 22] == 1
    fig = views.day_hour_figure(cb.series.incidents)
    assert np.asarray(fig.data[0].z).tolist() == grid.to_numpy().tolist() and "1 without a time" in fig.layout.title.text


def test_bearing_by_hand():
    assert views.bearing_deg(52, 0, 53, 0) == pytest.approx(0, abs=1e-6)
    assert views.bearing_deg(53, 0, 52, 0) == pytest.approx(180, abs=1e-6)
    assert views.bearing_deg(0, 0, 0, 1) == pytest.approx(90, abs=1e-6)
    assert views.bearing_deg(0, 1, 0, 0) == pytest.approx(270, abs=1e-6)


def test_route_map_legs_arrows_and_escaping(cb):
    legs = views.route_legs(cb)
    assert len(legs) == 3 and (legs.bearing.between(150, 200)).all()           # every leg heads south
    assert legs.groupby("run_id").colour.nunique().eq(1).all() and legs.colour.nunique() == 2
    page = views.route_force_map(cb, playback=False).to_html()
    assert page.count('id="wb-marking-top"') == 1 and page.count('id="wb-marking-bottom"') == 1
    assert not re.search(r'<(script|link)\b[^>]*(src|href)\s*=\s*["\']?(https?:)?//', page)
    assert not raw_markup(page) and "wb-xss-store" in page and "Headingley" in page
    assert page.count('"type": "LineString"') == 3 and page.count("transform:rotate(") == 3


def test_route_map_playback_needs_its_assets(cb, monkeypatch, tmp_path):
    from workbench.errors import WorkbenchError

    monkeypatch.setenv("WORKBENCH_ASSETS_DIR", str(tmp_path))      # an empty assets folder: nothing fetched
    assert not views.playback_available()
    fm = views.route_force_map(cb)                                  # optional: a note, no playback
    assert any("playback by time is not available" in n for n in fm.notes)
    with pytest.raises(WorkbenchError, match="make assets"):
        views.route_force_map(cb, playback=True)


def test_playback_assets_are_pinned_in_the_lock():
    from workbench import maps

    for _, url in views.PLAYBACK_JS + views.PLAYBACK_CSS:
        assert url in maps._lock(), url


def test_playback_steps_through_the_stops_offline(cb, chromium_path, tmp_path):
    from tests.browser_helpers import open_offline

    if not views.playback_available():
        pytest.skip("playback assets not fetched (make assets)")
    path = tmp_path / "playback.html"
    path.write_text(views.route_force_map(cb, playback=True).to_html(), encoding="utf-8")

    def step(page):
        page.wait_for_selector(".timecontrol-forward")
        frames = []
        for _ in range(6):
            page.wait_for_timeout(250)
            frames.append((page.locator(".timecontrol-date").inner_text(),
                           page.locator('path.leaflet-interactive[fill="#ffd700"]').count()))
            page.click(".timecontrol-forward")
        return frames

    seen = open_offline(chromium_path, path, step)
    assert seen.attempted == [] and seen.page_errors == []
    dates = [d for d, _ in seen.result]
    assert dates == [f"2025-03-0{d} 10:00" for d in range(3, 9)]              # a day a step from the first stop
    shown = dict(seen.result)
    # first frame: the first stop only; a day later: the 24 hours up to it, both ends included (Monday's 10:00,
    # 11:30 and 13:00); Saturday 8 March 10:00: none yet of that day's (10:15, 11:45), nothing left from Monday
    assert shown["2025-03-03 10:00"] == 1 and shown["2025-03-04 10:00"] == 3 and shown["2025-03-08 10:00"] == 0


def _trends():
    months = pd.date_range("2025-01-01", periods=8, freq="MS")
    rows = [("RUSH", "13", "WY", m.date(), 5 + k, m) for k, m in enumerate(months)]
    rows += [("RUSH", "14", "SY", m.date(), 1, m) for m in months[4:]]
    rows += [("FOIL", "30", XSS_STORE, m.date(), 2, m) for m in months]
    monthly = pd.DataFrame(rows, columns=["tactic_code", "force_code", "force_name", "month", "incidents", "first_at"])
    totals = pd.DataFrame({"month": [m.date() for m in months], "incidents": 100})
    first = pd.DataFrame({"tactic_code": ["RUSH", "FOIL"], "kind": "method", "name": ["Gang rush", "Foil"],
                          "first_at": [months[0], months[0]], "first_force_code": ["13", "30"],
                          "first_force_name": ["WY", "Derbys"]})
    return trends_from_frames(first, monthly, totals, crossborder_settings({"trends": {"min_months": 6}}))


def test_tactic_spread_small_multiples():
    t = _trends()
    fig = views.tactic_spread_maps(t)
    titles = [a.text for a in fig.layout.annotations]
    assert len(titles) == 2 and titles[0].startswith("RUSH rising")         # rising first, marked so
    panel = [tr for tr in fig.data if tr.xaxis == "x" and tr.fill == "toself"]
    assert len(panel) == 43                                                  # every force area drawn
    seen = [tr for tr in panel if tr.fillcolor != "#e6e6e6"]
    assert len(seen) == 2                                                    # RUSH: forces 13 and 14 only
    hover = {tr.text.split("<br>")[0]: tr.text for tr in seen}
    assert any("first seen 2025-05" in h for h in hover.values()) and any("first seen 2025-01" in h for h in
                                                                          hover.values())
    assert views.tactic_spread_maps(t, tactics=["FOIL"]).layout.annotations[0].text.startswith("FOIL")


def test_tactic_spread_lines_follow_the_spread_table():
    t = _trends()
    fig = views.tactic_spread_figure(t)
    counts = {tr.name: list(tr.y) for tr in fig.data if tr.xaxis == "x"}
    assert set(counts) == {"RUSH", "FOIL"} and len(fig.data) == 4
    assert counts["RUSH"] == [1, 1, 1, 1, 2, 2, 2, 2] and counts["FOIL"] == [1] * 8
    shares = {tr.name: list(tr.y) for tr in fig.data if tr.xaxis == "x2"}
    assert shares["FOIL"] == pytest.approx([2.0] * 8)
    assert any("new: 14" in h for tr in fig.data if tr.name == "RUSH" and tr.hovertext for h in tr.hovertext)


def test_pages_open_offline_in_chromium(cb, chromium_path, tmp_path):
    """The route map and a plotly view render with no request off file://, no script error, and the markup in
    names shown as text (the onerror handler never runs)."""
    from tests.browser_helpers import open_offline

    routes = tmp_path / "routes.html"
    routes.write_text(views.route_force_map(cb, playback=False).to_html(), encoding="utf-8")
    timeline = tmp_path / "timeline.html"
    timeline.write_text(views.figures_page(f"Timeline {XSS_STORE}", [views.timeline_figure(cb)],
                                           tables=[views._table(cb.forces, ["force_code", "force_name"], XSS_CHAIN)]),
                        encoding="utf-8")

    def leaflet(page):
        page.wait_for_timeout(300)
        return {"paths": page.locator("path.leaflet-interactive").count(),
                "arrows": page.locator(".wb-arrow").count(), "xss": page.evaluate("window.__wbXss === undefined"),
                "marking": page.locator("#wb-marking-top").inner_text()}

    seen = open_offline(chromium_path, routes, leaflet)
    assert seen.attempted == [] and seen.page_errors == [] and seen.dialogs == []
    assert seen.result["paths"] >= 3 + 6 and seen.result["arrows"] == 3 and seen.result["xss"]
    assert seen.result["marking"].strip()

    def plotly(page):
        page.wait_for_selector("#wb-figure-1 .main-svg")
        return {"points": page.locator("#wb-figure-1 .scatterlayer .point").count(),
                "title": page.locator("#wb-title").inner_text(), "xss": page.evaluate("window.__wbXss === undefined"),
                "table": page.locator(".wb-table h2").inner_text()}

    seen = open_offline(chromium_path, timeline, plotly)
    assert seen.attempted == [] and seen.page_errors == [] and seen.dialogs == []
    assert seen.result["points"] >= 6 and seen.result["xss"]
    assert seen.result["title"] == f"Timeline {XSS_STORE}" and seen.result["table"] == XSS_CHAIN


# -- on the quick linked sample world ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def linked_db(tmp_path_factory):
    from benchmarks import bench_crossborder, bench_linkage

    root = tmp_path_factory.getbasetemp() / "bench_linkage_quick"
    _world, db = bench_linkage.build(root / "linkage_quick", bench_linkage.QUICK_SCALE)
    bench_crossborder._resolve_if_needed(str(db))
    return db


def _copy(db, tmp_path, sql=()):
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(db.read_bytes())
    con = duckdb.connect(str(copy))
    try:
        for statement in sql:
            con.execute(statement)
    finally:
        con.close()
    return copy


def test_render_most_cross_border_writes_audited_marked_offline_views(linked_db, tmp_path, capsys):
    db = _copy(linked_db, tmp_path, [f"UPDATE stores SET name = '{XSS_STORE}'",
                                     f"UPDATE retailers SET name = '{XSS_CHAIN.replace(chr(39), chr(39) * 2)}'",
                                     f"UPDATE forces SET name = '{XSS_FORCE}'"])
    out = tmp_path / "out"
    result = invoke(capsys, "crossborder", "render", "--most-cross-border", "--out", out, "--db", db, "--json",
                    "--purpose", "test render")
    assert result.exit_code == 0, result.err
    payload = json.loads(result.output)
    from workbench.crossborder import several_forces
    from workbench.store import open_store

    with open_store(db, read_only=True) as store:
        widest = several_forces(store).group_id.iloc[0]
        audit = store.sql("SELECT object, details FROM audit_log WHERE action = 'export'")
    assert payload["series_id"] == widest and payload["lead"]["recommended"]["reasons"]
    assert set(payload["written"]) == {"timeline", "routes", "flows", "heat", "lead"}
    audited = {row.object: json.loads(row.details) for row in audit.itertuples()}
    for view, path in payload["written"].items():
        page = (out / widest / f"{view}.html").read_text(encoding="utf-8")
        assert path == str(out / widest / f"{view}.html") and audited[path]["kind"] == f"crossborder-{view}"
        assert audited[path]["purpose"] == "test render" and audited[path]["sha256"]
        assert page.count('id="wb-marking-top"') == 1 and page.count('id="wb-marking-bottom"') == 1
        assert not raw_markup(page)
        assert not re.search(r'<(script|link)\b[^>]*(src|href)\s*=\s*["\']?(https?:)?//', page)
    # the force names reached every view, escaped (in the timeline as plotly categories, i.e. tick labels)
    timeline = (out / widest / "timeline.html").read_text(encoding="utf-8").replace("\\u0026", "&")
    assert "&lt;img src=x onerror=" in timeline
    for view in ("flows", "lead", "routes"):
        page = (out / widest / f"{view}.html").read_text(encoding="utf-8").replace("\\u0026", "&")
        assert "&lt;img src=x onerror=" in page, view
    lead = (out / widest / "lead.html").read_text(encoding="utf-8")
    assert "Recommended lead force" in lead and payload["lead"]["recommended"]["force_code"] in lead


def test_tactics_cli_table_json_and_map(linked_db, tmp_path, capsys):
    result = invoke(capsys, "crossborder", "tactics", "--db", linked_db, "--json", "--out", tmp_path / "t")
    assert result.exit_code == 0, result.err
    payload = json.loads(result.output)
    assert payload["trends"] and "Mann-Kendall" in payload["method"]
    assert {"tactic_code", "trend", "sen_slope", "q_value", "rising"} <= set(payload["trends"][0])
    assert (tmp_path / "t" / "tactics.html").exists() and payload["written"]["tactics"].endswith("tactics.html")
    from markupsafe import escape

    page = (tmp_path / "t" / "tactics.html").read_text(encoding="utf-8")
    assert all(str(escape(r["first_store_name"])) in page for r in payload["first_seen"])
    assert page.count('id="wb-marking-top"') == 1 and not re.search(r'<script\b[^>]*\bsrc=', page)
    text = invoke(capsys, "crossborder", "tactics", "--db", linked_db)
    assert text.exit_code == 0 and "rising nationally" in text.output


def test_render_one_line_errors(linked_db, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    from workbench import config

    real_get = config.get
    monkeypatch.setattr(config, "get", lambda key, *a, **k: 0.01 if key == "maps.max_html_mb" else real_get(key, *a, **k))
    one_line_error(invoke(capsys, "crossborder", "render", "--most-cross-border", "--out", out, "--db", linked_db),
                   "over the 0.01 MB bound")
    monkeypatch.setattr(config, "get", real_get)
    one_line_error(invoke(capsys, "crossborder", "render", "GR99999", "--out", out, "--db", linked_db), "GR99999")
    one_line_error(invoke(capsys, "crossborder", "render", "--out", out, "--db", linked_db), "--most-cross-border")
    one_line_error(invoke(capsys, "crossborder", "render", "GR00001", "--most-cross-border", "--out", out, "--db",
                          linked_db), "one of them")
    from workbench.store import open_store

    with open_store(linked_db, read_only=True) as store:
        gid = store.query("crossborder/groups_active").group_id.iloc[0]
    inside = _copy(linked_db, tmp_path, ["UPDATE stores SET force_code = '01'", "UPDATE incidents SET force_code = '01'"])
    one_line_error(invoke(capsys, "crossborder", "render", gid, "--out", out, "--db", inside), "no border is crossed")
    inside.unlink()
    with open_store(linked_db, read_only=True) as store:
        from workbench.crossborder import get_series

        others = ",".join(str(i) for i in get_series(store, gid).incidents.incident_id.tolist()[1:])
    one = _copy(linked_db, tmp_path, [f"DELETE FROM person_mentions WHERE incident_id IN ({others})",
                                      f"DELETE FROM vehicle_mentions WHERE incident_id IN ({others})"])
    one_line_error(invoke(capsys, "crossborder", "render", gid, "--out", out, "--db", one), "has one incident")
    one.unlink()
    blank = _copy(linked_db, tmp_path, ["UPDATE incidents SET occurred_at = NULL"])
    one_line_error(invoke(capsys, "crossborder", "render", gid, "--out", out, "--db", blank), "both a time and a place")
    assert not out.exists()
