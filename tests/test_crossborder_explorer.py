"""The CrossBorderExplorer widget (widgets/crossborder_explorer.py) on a store built the way an analyst builds one
(tests/hotspot_fixtures.ingested_world: `workbench sample`, `ingest`, `geo enrich`) and resolved by `run_all`
(persons, vehicles, groups; never ground truth): what it shows is the library's analysis (analyse, lead_summary,
several_forces, the views), picking a group replaces every panel's content in place, a group the analysis refuses
is one line with the panels emptied, an incident's MO candidates come from mo_linkage.candidates, and names
written with <script> show escaped."""
from __future__ import annotations

import base64
import html
import io
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.hotspot_fixtures import ingested_world
from workbench import crossborder as xb
from workbench.errors import WorkbenchError
from workbench.store import open_store

HOSTILE = "<script>alert(1)</script>"


def linked_world(base: Path) -> Path:
    """The session's ingested world (shared with the hotspot, ingest and linkage notebook tests) copied and resolved
    once (persons, vehicles, groups); later calls reuse it. Copy it before writing to it."""
    built = ingested_world(base / "ingested_world")
    root = base / "crossborder_linked"
    db, marker = root / "linked.duckdb", root / "built.json"
    if marker.exists() and db.exists():
        return db
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(built["db"], db)
    from workbench.linkage.run import run_all

    with open_store(db) as store:
        runs = run_all(store)
    marker.write_text(json.dumps([{k: v for k, v in r.items() if k in ("entity", "run_id", "entities")}
                                  for r in runs], default=str))
    return db


@pytest.fixture(scope="module")
def linked(tmp_path_factory):
    return linked_world(tmp_path_factory.getbasetemp())


@pytest.fixture
def store(linked):
    with open_store(linked, read_only=True) as s:
        yield s


@pytest.fixture
def writable(linked, tmp_path):
    db = tmp_path / "explorer.duckdb"
    shutil.copy(linked, db)
    with open_store(db) as s:
        yield s


def _table(html: str) -> pd.DataFrame:
    return pd.read_html(io.StringIO(html), flavor="lxml")[0]


def _shown_forces(x) -> dict[str, int]:
    table = _table(x.forces_html.value)
    return dict(zip(table["force"].astype(str).str.zfill(2), table["incidents"].astype(int)))


def _panels(x) -> list:
    return list(x.panel.children)


def _spec(out) -> dict:
    (shown,) = out.outputs
    return shown["data"]["application/vnd.plotly.v1+json"]


def _array(value) -> np.ndarray:
    """A plotly JSON array: a list, or a typed array (dtype, base64 bdata, shape)."""
    if isinstance(value, dict) and "bdata" in value:
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        shape = [int(n) for n in str(value.get("shape", len(flat))).split(",")]
        return flat.reshape(shape)
    return np.asarray(value if value is not None else [], dtype=object)


def _route_page(x) -> str:
    found = re.search(r'srcdoc="(.*)"></iframe>', x.route_html.value, re.S)
    assert found, x.route_html.value[:200]
    return html.unescape(found.group(1))


def _assert_views_show(x, cb) -> None:
    """The figures and the route map on screen are those of this analysis."""
    gid = cb.series.series_id
    assert gid in _spec(x.timeline_out)["layout"]["title"]["text"]
    timeline_points = sum(len(_array(t.get("x"))) for t in _spec(x.timeline_out)["data"] if t.get("mode") == "markers"
                          and t.get("name") != "violence or threats")
    assert timeline_points == int(cb.series.incidents.occurred_at.notna().sum())
    matrix = [t for t in _spec(x.flows_out)["data"] if t["type"] == "heatmap"]
    assert _array(matrix[0]["z"]).astype(int).sum() == int(cb.flows.legs.sum()) if len(cb.flows) else not matrix
    heat = _array(_spec(x.heat_out)["data"][0]["z"]).astype(int)
    assert heat.shape == (7, 24) and heat.sum() == len(cb.series.incidents.dropna(subset=["weekday", "hour"]))
    sankey = _spec(x.sankey_out)["data"]
    assert (_array(sankey[0]["link"]["value"]).astype(int).sum() if sankey else 0) == int(cb.flows.legs.sum())
    page = _route_page(x)
    assert f"Runs of group {gid}" in page and "OFFICIAL" in page
    assert all(r in page for r in cb.runs.runs.run_id.head(40))


def test_opens_on_the_group_spanning_most_forces_with_its_analysis(store):
    from widgets.crossborder_explorer import CrossBorderExplorer

    listed = xb.several_forces(store, min_forces=1)
    x = CrossBorderExplorer(store)
    assert [v for _, v in x.group.options] == list(listed.group_id) and len(listed) >= 3
    gid = listed.group_id.iloc[0]
    assert x.group.value == gid and x.cb.series.series_id == gid
    cb = xb.analyse(store, gid)
    expected = dict(zip(cb.forces.force_code, cb.forces.incidents))
    assert _shown_forces(x) == expected and len(expected) == listed.forces.iloc[0] >= 2
    lead = xb.lead_summary(cb)
    summary = x.summary_html.value
    assert f"Recommended lead force: {lead['recommended']['force_code']}" in summary
    assert lead["recommended"]["reasons"] in summary.replace("&#39;", "'")
    assert (f"Runner-up: {lead['runner_up']['force_code']}" in summary) == (lead["runner_up"] is not None)
    runs = _table(x.runs_html.value)
    assert set(runs["run"]) <= set(cb.runs.runs.run_id) and len(runs) == min(25, len(cb.runs.runs))
    assert runs["run"].iloc[0] == cb.runs.runs.sort_values("start_at").run_id.iloc[-1]     # latest first
    held = _table(x.forces_html.value).set_index(_table(x.forces_html.value)["force"].astype(str).str.zfill(2))
    top = cb.forces.iloc[0]
    first_number = top.crime_number_list.split(";")[0]
    assert str(held.loc[top.force_code, "crime numbers held"]).startswith(first_number)
    latest = cb.series.incidents.sort_values("occurred_at", ascending=False).incident_id.head(200)
    assert list(x.incident.options) == [str(i) for i in latest]
    assert x.state()["figures"] == ["day_hour", "flow_matrix", "flow_sankey", "timeline"]
    _assert_views_show(x, cb)


def test_picking_a_group_replaces_every_panel_in_place(store):
    from widgets.crossborder_explorer import CrossBorderExplorer

    x = CrossBorderExplorer(store)
    panels, before = _panels(x), {k: v for k, v in x.state().items()}
    first_forces, first_summary = _shown_forces(x), x.summary_html.value
    outputs = {name: getattr(x, name).outputs for name in ("timeline_out", "flows_out", "sankey_out", "heat_out")}
    first_map = x.route_html.value
    other = [v for _, v in x.group.options][2]
    x.group.value = other                                          # what picking in the dropdown does
    assert _panels(x) == panels                                    # the same widgets, new content
    assert x.cb.series.series_id == other and x.refreshes == before["refreshes"] + 1
    cb = xb.analyse(store, other)
    assert _shown_forces(x) == dict(zip(cb.forces.force_code, cb.forces.incidents)) != first_forces
    assert x.summary_html.value != first_summary and other in x.summary_html.value
    assert x.state()["group"] == other
    _assert_views_show(x, cb)
    assert all(getattr(x, name).outputs != before for name, before in outputs.items())
    assert x.route_html.value != first_map


def test_unknown_group_and_a_group_the_analysis_refuses(writable):
    from widgets.crossborder_explorer import CrossBorderExplorer

    with pytest.raises(WorkbenchError, match="no active group"):
        CrossBorderExplorer(writable, group_id="GR99999")
    # a group whose only member was seen at one incident: analyse refuses it in one line, the panels empty
    person = writable.sql("""SELECT l.person_id FROM person_links l JOIN person_mentions m USING (mention_id)
                             GROUP BY 1 HAVING count(DISTINCT m.incident_id) = 1
                             ORDER BY 1 LIMIT 1""").person_id.iloc[0]
    writable.con.execute("INSERT INTO groups (group_id, status, label) VALUES ('GR09999', 'active', 'one visit')")
    writable.con.execute("INSERT INTO group_members (group_id, person_id, role, is_broker, is_key_player, run_id) "
                         "VALUES ('GR09999', $p, 'member', false, false, 0)", {"p": person})
    x = CrossBorderExplorer(writable)
    assert x.forces_html.value
    x.group.value = "GR09999"
    assert "has one incident" in x.status.value and "\n" not in x.status.value.strip()
    assert x.cb is None and x.forces_html.value == "" and x.summary_html.value == "" and x.figures == {}
    assert all(not out.outputs for out in (x.timeline_out, x.flows_out, x.sankey_out, x.heat_out))


def test_incident_ids_are_checked_before_candidates_are_asked_for(store):
    from widgets.crossborder_explorer import CrossBorderExplorer

    x = CrossBorderExplorer(store)
    x.incident.value = "12; DROP TABLE incidents"
    assert "whole number" in x.candidates_html.value and "DROP TABLE" in x.candidates_html.value
    assert x.candidates.empty and x.picked_incident is None


def _unnamed_incident(store) -> int:
    """An incident no referral names a person or vehicle at (CCTV only), with a tactic code."""
    return int(store.sql("""SELECT i.incident_id FROM incidents i
                            WHERE EXISTS (SELECT 1 FROM incident_tactics t WHERE t.incident_id = i.incident_id)
                              AND NOT EXISTS (SELECT 1 FROM person_mentions m WHERE m.incident_id = i.incident_id)
                              AND NOT EXISTS (SELECT 1 FROM vehicle_mentions v WHERE v.incident_id = i.incident_id)
                            ORDER BY i.incident_id LIMIT 1""").incident_id.iloc[0])


def test_picking_an_incident_lists_its_mo_candidates_with_explanations(store):
    from widgets.crossborder_explorer import CrossBorderExplorer
    from workbench.crossborder import mo_linkage

    x = CrossBorderExplorer(store, top=5)
    incident = _unnamed_incident(store)
    x.incident.value = str(incident)                                 # typed or picked in the combobox
    expected = mo_linkage.candidates(store, incident_id=incident, top=5)
    assert x.state()["incident"] == incident and len(expected.groups) >= 2
    assert list(x.candidates.group_id) == list(expected.groups.group_id)
    tables = pd.read_html(io.StringIO(x.candidates_html.value), flavor="lxml")
    query, groups, incidents = tables
    assert list(query["incident"]) == [incident]
    assert "no named offender or vehicle" in x.candidates_html.value
    assert list(groups["group"]) == list(expected.groups.group_id)
    assert list(groups["features that agree"]) == list(expected.groups.agrees)        # the explanation, per group
    assert all(str(i) in n for i, n in zip(expected.groups.nearest.str.split(" ").str[0], groups.iloc[:, 5]))
    assert list(incidents["incident"]) == list(expected.incidents.incident_id)
    x.incident.value = "999999999"
    assert "no incident 999999999" in x.candidates_html.value and x.candidates.empty


def test_look_alikes_of_the_group_feed_the_incident_picker(store):
    from widgets.crossborder_explorer import CrossBorderExplorer
    from workbench.crossborder import mo_linkage

    x = CrossBorderExplorer(store, top=5)
    gid = x.group.value
    x.look_alikes_button.click()
    expected = mo_linkage.candidates(store, series_id=gid, top=5)
    assert list(x.candidate_incidents.incident_id) == list(expected.incidents.incident_id)
    assert gid not in set(x.candidates.group_id) and list(x.candidates.group_id) == list(expected.groups.group_id)
    assert list(x.incident.options[:len(expected.incidents)]) == [str(i) for i in expected.incidents.incident_id]
    assert not (set(expected.incidents.force_code.dropna()) & set(x.cb.series.incidents.force_code.dropna()))
    x.group.value = [v for _, v in x.group.options][1]             # another group: the old look-alikes go
    assert x.candidates.empty and x.candidates_html.value == ""
    x.incident.value = str(expected.incidents.incident_id.iloc[0])   # an incident's candidates stay with it
    shown = x.candidates_html.value
    x.group.value = gid
    assert x.candidates_html.value == shown and len(x.candidates)


def test_hostile_names_show_escaped(writable):
    from widgets.crossborder_explorer import CrossBorderExplorer

    gid = xb.several_forces(writable).group_id.iloc[0]
    series = xb.get_series(writable, gid)
    placed = series.incidents.dropna(subset=["store_id", "occurred_at"])
    incident, store_id = int(placed.incident_id.iloc[0]), placed.store_id.iloc[0]
    con = writable.con
    con.execute("UPDATE groups SET label = $l WHERE group_id = $g", {"l": HOSTILE + " and 3 others", "g": gid})
    con.execute("UPDATE forces SET name = $n", {"n": '<img src=x onerror="alert(2)">'})
    con.execute("UPDATE incidents SET crime_number = $c WHERE incident_id = $i",
                {"c": "!" + HOSTILE + "/24", "i": incident})          # "!" sorts first: among the numbers shown
    con.execute("UPDATE stores SET name = $n, town = $n WHERE store_id = $s", {"n": HOSTILE + " Town", "s": store_id})
    x = CrossBorderExplorer(writable, group_id=gid)
    for widget in (x.summary_html, x.forces_html, x.runs_html, x.status):
        assert "<script" not in widget.value.lower() and "<img" not in widget.value.lower(), widget.value[:300]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; and 3 others" in x.summary_html.value
    assert "&lt;img src=x onerror=&#34;alert(2)&#34;&gt;" in x.forces_html.value
    assert "!&lt;script&gt;alert(1)&lt;/script&gt;/24" in x.forces_html.value
    # the figures carry the names as escaped text (plotly reads a few tags), the route map's page escapes them
    for out in (x.timeline_out, x.flows_out, x.sankey_out, x.heat_out):
        assert "<script" not in json.dumps(_spec(out))             # store, town, label, crime number
    for out in (x.flows_out, x.sankey_out):                          # force names (the timeline's axis categories
        assert "<img" not in json.dumps(_spec(out))                  # are raw names: views.timeline_figure's own)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Town" in json.dumps(_spec(x.timeline_out))
    x.incident.value = str(incident)                                 # its store and crime number in the query table
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Town" in x.candidates_html.value
    assert "<script" not in x.candidates_html.value and "<img" not in x.candidates_html.value
    page = _route_page(x)
    assert "alert(1)" in page and HOSTILE not in page and "<img src=x" not in page
    assert "\\u003cscript" not in page and "\\u003cimg" not in page     # nor as JSON for a tooltip to decode


@pytest.mark.browser
def test_explorer_renders_offline_in_voila_and_runs_no_hostile_script(writable, tmp_path, chromium_path):
    """Served by Voila on 127.0.0.1 and opened in headless chromium with every other address refused: the four
    figures draw (JupyterLab's plotly renderer in the Output widgets), the route map draws inside its iframe, and
    names written as <script>/<img onerror> in the store open no dialog and raise no page error."""
    import subprocess
    import sys

    import nbformat
    from playwright.sync_api import sync_playwright

    from tests.voila_helpers import TEMPLATE, free_port as _free_port, require_template, wait_for_port as _wait_for
    from workbench import maps

    gid = xb.several_forces(writable).group_id.iloc[0]
    placed = xb.get_series(writable, gid).incidents.dropna(subset=["store_id", "occurred_at"])
    writable.con.execute("UPDATE groups SET label = $l WHERE group_id = $g", {"l": HOSTILE, "g": gid})
    writable.con.execute("UPDATE forces SET name = $n", {"n": '<img src=x onerror="alert(2)">'})
    writable.con.execute("UPDATE stores SET name = $n, town = $n WHERE store_id = $s",
                         {"n": HOSTILE + " Town", "s": placed.store_id.iloc[0]})
    db = Path(writable.path)
    writable.close()
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(
        "from workbench.store import open_store\nfrom widgets.crossborder_explorer import CrossBorderExplorer\n"
        f"store = open_store({str(db)!r}, read_only=True)\nexplorer = CrossBorderExplorer(store, top=3)\n"
        f"explorer.pick_incident({int(placed.incident_id.iloc[0])})\nexplorer.panel")]
    served = tmp_path / "served"
    served.mkdir()
    nbformat.write(nb, served / "explorer.ipynb")
    require_template()                      # the offline Voila template (make assets): nothing from a CDN
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "voila", "explorer.ipynb", "--no-browser", f"--port={port}",
                             "--Voila.ip=127.0.0.1", f"--template={TEMPLATE}", "--ServerApp.allow_root=True"], cwd=served,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
    outside, page_errors, dialogs = [], [], []
    try:
        _wait_for(port, proc)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path, args=maps.CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1600})

            def route(r):
                url = r.request.url
                if url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "about:")):
                    r.continue_()
                else:
                    outside.append(url)
                    r.abort()

            page.route("**/*", route)
            page.on("pageerror", lambda exc: page_errors.append(str(exc)))
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(f"http://127.0.0.1:{port}/", timeout=240_000)
            page.wait_for_selector(".wb-xb-summary", timeout=240_000)
            page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 4",
                                   timeout=120_000)
            plots = page.locator(".js-plotly-plot").count()
            route_map = page.frame_locator("iframe[title='route map']")
            route_map.locator(".leaflet-overlay-pane path").first.wait_for(timeout=60_000)
            legs = route_map.locator(".leaflet-overlay-pane path").count()
            text = page.inner_text("body")
            page.wait_for_timeout(1000)
            browser.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    assert plots == 4 and legs > 10
    assert HOSTILE in text and "Traceback" not in text          # the name shows as the characters written
    assert not dialogs and not page_errors, (dialogs, page_errors)
    # the workbench Voila template serves Font Awesome locally: nothing at all is asked of another address
    assert not outside, outside
