"""Link chart HTML, GraphML and node/edge CSV exports of a Network (workbench.linkage.charts)."""
from __future__ import annotations

import csv
import hashlib
import json
import os
import re
from html.parser import HTMLParser

import pandas as pd
import pytest

from tests.linkage_chart_helpers import EVIL, EVIL_HEADER, FORMULA, hand_network
from workbench import config
from workbench.errors import WorkbenchError
from workbench.linkage import charts


def audit_rows(store, action):
    rows = store.con.execute("SELECT object, details FROM audit_log WHERE action = $a ORDER BY seq",
                             {"a": action}).fetchall()
    return [(obj, json.loads(details)) for obj, details in rows]


class Elements(HTMLParser):
    """Element tags and the text of each <script> as a browser's tokeniser sees them."""

    def __init__(self):
        super().__init__()
        self.tags, self.scripts, self._in = [], [], None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in = []

    def handle_endtag(self, tag):
        if tag == "script" and self._in is not None:
            self.scripts.append("".join(self._in))
            self._in = None

    def handle_data(self, data):
        if self._in is not None:
            self._in.append(data)


def parse(page: str) -> Elements:
    parser = Elements()
    parser.feed(page)
    return parser


# -- HTML -----------------------------------------------------------------------------------------
def test_chart_is_self_contained_and_its_data_round_trip(tmp_path, tmp_store):
    net = hand_network()
    out = charts.write_link_chart(net, tmp_path / "c.html", title="Group <b>GR00001</b>", store=tmp_store,
                                  purpose="briefing for WYP")
    page = out.read_text(encoding="utf-8")
    doc = parse(page)
    # nothing is loaded: no src/href on any tag, the library is inline
    assert not [t for t, attrs in doc.tags if "src" in attrs or "href" in attrs]
    assert len(doc.scripts) == 3 and "cytoscape" in doc.scripts[1] and len(doc.scripts[1]) > 100_000
    assert [a.get("type") for t, a in doc.tags if t == "script"] == ["application/json", None, None]
    data = json.loads(doc.scripts[0], parse_constant=lambda c: pytest.fail(f"{c} is not JSON: JSON.parse refuses it"))
    by_id = {n["id"]: n for n in data["nodes"]}
    assert set(by_id) == set(net.nodes.node_id) and len(data["edges"]) == len(net.edges)
    # labels, gradings and sources are the raw data (escaped only by JSON), never HTML-escaped twice
    assert by_id["P:RP0000001"]["label"] == EVIL and by_id["P:RP0000002"]["label"] == FORMULA
    assert by_id["P:RP0000001"]["grading"] == "B2P" and by_id["P:RP0000001"]["source_ref"] == "REF-1 row 2"
    assert by_id["P:RP0000001"]["first"] == "2024-01-10" and by_id["P:RP0000001"]["attrs"]["dob"] == "1990-03-12"
    assert by_id["P:RP0000003"]["grading"] is None and by_id["S:TST-1"]["first"] is None
    edges = {(e["source"], e["target"], e["kind"]): e for e in data["edges"]}
    assert edges[("P:RP0000001", "V:RV0000001", "travelled_in")]["weight"] == 2
    # the hostile name never appears raw, so it cannot close the data block
    assert EVIL not in page and "<script>window.__pwned" not in page and "<img" not in page
    assert "<title>Group &lt;b&gt;GR00001&lt;/b&gt;</title>" in page
    marking = config.security_marking()
    assert f'id="wb-marking-top">{marking}<' in page and f'id="wb-marking-bottom">{marking}<' in page
    (obj, details), = audit_rows(tmp_store, "link-chart")
    assert obj == str(out) and details["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert details["marking"] == marking and details["purpose"] == "briefing for WYP"
    assert (details["nodes"], details["edges"], details["persons"], details["incidents"]) == (11, 13, 3, 4)


def test_chart_text_is_escaped_everywhere(tmp_path, tmp_store):
    net = hand_network()
    net.nodes.loc[net.nodes.node_id == "I:101", "force_code"] = "<b>X1</b>"   # an unknown force code
    out = charts.write_link_chart(net, tmp_path / "c.html", title="t", marking='<script>alert("m")</script>',
                                  store=tmp_store)
    page = out.read_text()
    doc = parse(page)
    options = [a.get("value") for t, a in doc.tags if t == "option"]
    assert "<b>X1</b>" in options and "<b>" not in [t for t, _ in doc.tags]
    assert page.count("&lt;script&gt;alert(&#34;m&#34;)&lt;/script&gt;") == 2 and len(doc.scripts) == 3


def test_hostile_label_cannot_break_out_even_with_script_closers_in_every_field(tmp_path, tmp_store):
    net = hand_network()
    for column in ("label", "source_ref", "grading", "group_id", "entity_id"):
        net.nodes[column] = "</script><script>alert(1)</script><!--"
    net.nodes["node_id"] = [f"{k[0].upper()}:{n}" for n, k in enumerate(net.nodes.kind)]
    net.edges["source_ref"] = "</SCRIPT ><script>alert(2)</script>"
    mapping = dict(zip(hand_network().nodes.node_id, net.nodes.node_id))
    net.edges["source"] = net.edges.source.map(mapping)
    net.edges["target"] = net.edges.target.map(mapping)
    page = charts.write_link_chart(net, tmp_path / "c.html", title="t", store=tmp_store).read_text()
    doc = parse(page)
    assert len(doc.scripts) == 3
    data = json.loads(doc.scripts[0])
    assert {n["label"] for n in data["nodes"]} == {"</script><script>alert(1)</script><!--"}
    assert {e["source_ref"] for e in data["edges"]} == {"</SCRIPT ><script>alert(2)</script>"}


def test_missing_assets_is_one_clear_error_and_no_file(tmp_path, tmp_store, monkeypatch):
    monkeypatch.setenv("WORKBENCH_ASSETS_DIR", str(tmp_path / "no-assets"))
    with pytest.raises(WorkbenchError) as info:
        charts.write_link_chart(hand_network(), tmp_path / "c.html", title="t", store=tmp_store)
    assert "cytoscape@3.35.0" in str(info.value) and "make assets" in str(info.value)
    assert not (tmp_path / "c.html").exists() and audit_rows(tmp_store, "link-chart") == []


def test_bad_outputs_and_bad_networks_are_refused(tmp_path, tmp_store):
    net = hand_network()
    with pytest.raises(WorkbenchError, match=r"\.html"):
        charts.write_link_chart(net, tmp_path / "c.pdf", title="t", store=tmp_store)
    locked = tmp_path / "locked"
    locked.mkdir()
    os.chmod(locked, 0o500)
    try:
        if not os.access(locked, os.W_OK):   # (root ignores permissions)
            with pytest.raises(WorkbenchError, match="not writable"):
                charts.write_link_chart(net, locked / "c.html", title="t", store=tmp_store)
    finally:
        os.chmod(locked, 0o700)
    file_in_the_way = tmp_path / "afile"
    file_in_the_way.write_text("x")
    with pytest.raises(WorkbenchError, match="is a file"):
        charts.write_link_chart(net, file_in_the_way / "c.html", title="t", store=tmp_store)
    with pytest.raises(WorkbenchError, match="11 nodes, over the 5"):
        charts.write_link_chart(net, tmp_path / "c.html", title="t", store=tmp_store, max_nodes=5)
    dangling = hand_network()
    dangling.edges.loc[0, "target"] = "I:999"
    with pytest.raises(WorkbenchError, match="I:999"):
        charts.write_link_chart(dangling, tmp_path / "c.html", title="t", store=tmp_store)
    with pytest.raises(WorkbenchError, match="purpose"):
        charts.write_link_chart(net, tmp_path / "c.html", title="t", store=tmp_store, purpose="a\nb")
    assert not list(tmp_path.glob("*.html")) and audit_rows(tmp_store, "link-chart") == []


def test_product_that_cannot_be_audited_is_deleted(tmp_path, tmp_store):
    tmp_store.close()
    read_only = __import__("workbench.store", fromlist=["open_store"]).open_store(tmp_path / "test.duckdb",
                                                                                 read_only=True)
    try:
        # a read-only store writes the row through a brief write connection: audited, kept
        out = charts.write_link_chart(hand_network(), tmp_path / "ok.html", title="t", store=read_only)
        assert out.exists()
    finally:
        read_only.close()
    blocker = tmp_path / "not-a-db.duckdb"
    blocker.write_text("this is not a database")
    with pytest.raises(WorkbenchError, match="audit"):
        charts.write_link_chart(hand_network(), tmp_path / "gone.html", title="t", store=blocker)
    assert not (tmp_path / "gone.html").exists()


def test_empty_network_writes_an_empty_chart(tmp_path, tmp_store):
    net = hand_network()
    net.nodes, net.edges = net.nodes.iloc[0:0], net.edges.iloc[0:0]
    page = charts.write_link_chart(net, tmp_path / "e.html", title="nothing", store=tmp_store).read_text()
    data = json.loads(parse(page).scripts[0])
    assert data["nodes"] == [] and data["edges"] == []


# -- GraphML --------------------------------------------------------------------------------------
def test_graphml_round_trip(tmp_path, tmp_store):
    import networkx as nx

    net = hand_network()
    out = charts.write_graphml(net, tmp_path / "net.graphml", store=tmp_store, purpose="i2 import")
    graph = nx.read_graphml(out)
    assert set(graph.nodes) == set(net.nodes.node_id) and graph.number_of_edges() == len(net.edges)
    assert graph.nodes["P:RP0000001"]["label"] == EVIL and graph.nodes["P:RP0000001"]["grading"] == "B2P"
    assert graph.nodes["P:RP0000002"]["source_ref"] == "REF-2 row 4; REF-7 row 9"
    assert graph.nodes["I:101"]["kind"] == "incident" and graph.nodes["I:101"]["lat"] == pytest.approx(53.79)
    assert json.loads(graph.nodes["V:RV0000001"]["attrs"])["vrm"] == "AB12CDE"
    assert "grading" not in graph.nodes["P:RP0000003"]       # missing values are left out, not "nan"
    kinds = sorted(d["kind"] for _, _, d in graph.edges(data=True))
    assert kinds == sorted(net.edges.kind)
    weights = {(u, v): d["weight"] for u, v, d in graph.edges(data=True)}
    assert weights[("P:RP0000001", "V:RV0000001")] == 2
    assert graph.graph["security_marking"] == config.security_marking()
    text = out.read_text()
    assert "<script>" not in text and "&lt;script&gt;" in text
    (obj, details), = audit_rows(tmp_store, "link-graphml")
    assert obj == str(out) and details["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert details["purpose"] == "i2 import"


def test_graphml_needs_its_extension(tmp_path, tmp_store):
    with pytest.raises(WorkbenchError, match="graphml"):
        charts.write_graphml(hand_network(), tmp_path / "net.xml", store=tmp_store)


# -- CSV ------------------------------------------------------------------------------------------
def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_csv_round_trip_is_formula_safe(tmp_path, tmp_store):
    net = hand_network()
    net.nodes[EVIL_HEADER] = "x"                      # an extra column with a hostile name
    nodes_path, edges_path = charts.write_network_csv(net, tmp_path / "csv", store=tmp_store)
    nodes, edges = read_csv(nodes_path), read_csv(edges_path)
    assert len(nodes) == len(net.nodes) and len(edges) == len(net.edges)
    assert list(nodes[0])[:len(charts.NODE_COLUMNS)] == list(charts.NODE_COLUMNS)
    assert "'" + EVIL_HEADER in nodes[0] and EVIL_HEADER not in nodes[0]
    by_id = {r["node_id"]: r for r in nodes}
    assert by_id["P:RP0000002"]["label"] == "'" + FORMULA           # neutralised, readable
    assert by_id["P:RP0000001"]["label"] == EVIL                    # text, as it was
    assert by_id["P:RP0000003"]["grading"] == "" and by_id["I:101"]["lat"] == "53.79"
    assert by_id["I:101"]["first_seen"] == "2024-01-10 14:30:00"
    assert {(r["source"], r["target"], r["kind"]) for r in edges} == set(
        zip(net.edges.source, net.edges.target, net.edges.kind))
    (obj, details), = audit_rows(tmp_store, "link-csv")
    assert obj == str(tmp_path / "csv") and details["marking"] == config.security_marking()
    assert {f["file"] for f in details["files"]} == {str(nodes_path), str(edges_path)}
    assert {f["sha256"] for f in details["files"]} == {hashlib.sha256(p.read_bytes()).hexdigest()
                                                       for p in (nodes_path, edges_path)}


def test_csv_folder_that_is_a_file_is_refused(tmp_path, tmp_store):
    target = tmp_path / "csv"
    target.write_text("x")
    with pytest.raises(WorkbenchError, match="is a file"):
        charts.write_network_csv(hand_network(), target, store=tmp_store)


def test_frames_require_the_contract_columns():
    net = hand_network()
    net.nodes = net.nodes.drop(columns=["grading"])
    with pytest.raises(WorkbenchError, match="grading"):
        charts.frames(net)
    net = hand_network()
    net.nodes.loc[1, "node_id"] = net.nodes.loc[0, "node_id"]
    with pytest.raises(WorkbenchError, match="twice"):
        charts.frames(net)
    net = hand_network()
    net.nodes.loc[0, "kind"] = "phone"
    with pytest.raises(WorkbenchError, match="phone"):
        charts.frames(net)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", charts.day(pd.Timestamp("2024-05-06 13:00")))
    assert charts.day(pd.NaT) is None and charts.day("not a date") is None


# -- CLI: workbench groups export / workbench link export on a real store -----------------------------------
@pytest.fixture
def grouped_store(tmp_path):
    """The small store of the network tests with A, B and C (RP0000001-3) as active group GR00001."""
    from tests.test_linkage_groups import tiny_store

    path = tmp_path / "tiny.duckdb"
    with tiny_store(path) as store:
        store.con.execute("INSERT INTO groups (group_id, status, label, members) VALUES ('GR00001', 'active', 'g', 3)")
        for pid in ("RP0000001", "RP0000002", "RP0000003"):
            store.con.execute("INSERT INTO group_members (group_id, person_id, role, is_broker, is_key_player, run_id) "
                              "VALUES ('GR00001', $p, 'member', false, false, 1)", {"p": pid})
    return path


def run_cli(capsys, *args):
    from workbench.cli import main

    code = main(list(map(str, args)))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_line_error(result, *needles):
    code, out, err = result
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in out + err, err
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_groups_export_every_format(grouped_store, tmp_path, capsys):
    import networkx as nx
    from workbench.linkage.network import build_network
    from workbench.store import open_store

    with open_store(grouped_store, read_only=True) as store:
        expected = build_network(store, group_id="GR00001")
    members = set(expected.nodes.node_id[expected.nodes.kind == "person"])
    assert members == {"P:RP0000001", "P:RP0000002", "P:RP0000003"}
    out = tmp_path / "out"
    code, text, err = run_cli(capsys, "groups", "export", "GR00001", "--format", "html", "--out", out / "g.html",
                              "--db", grouped_store, "--purpose", "handover to NYP", "--json")
    assert code == 0, err
    result = json.loads(text)
    assert result["files"] == [str(out / "g.html")] and result["persons"] == 3 and result["group_id"] == "GR00001"
    data = json.loads(parse((out / "g.html").read_text()).scripts[0])
    assert {n["id"] for n in data["nodes"]} == set(expected.nodes.node_id)
    assert "<title>Group GR00001</title>" in (out / "g.html").read_text()
    for fmt, target in (("anx", out / "g.anx"), ("anx-timeline", out / "t.anx"), ("graphml", out / "g.graphml"),
                        ("csv", out / "csv")):
        code, text, err = run_cli(capsys, "groups", "export", "GR00001", "--format", fmt, "--out", target,
                                  "--db", grouped_store)
        assert code == 0 and text.startswith("wrote ") and "3 members" in text, err
    assert set(nx.read_graphml(out / "g.graphml").nodes) == set(expected.nodes.node_id)
    assert len(read_csv(out / "csv" / "nodes.csv")) == len(expected.nodes)
    # the format follows the extension when --format is left out
    code, text, err = run_cli(capsys, "groups", "export", "GR00001", "--out", out / "x.anx", "--db", grouped_store)
    assert code == 0 and (out / "x.anx").read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff"), err
    with open_store(grouped_store, read_only=True) as store:
        audit = store.sql("SELECT action, object, details FROM audit_log WHERE action LIKE 'link-%' ORDER BY seq")
    assert list(audit.action) == ["link-chart", "link-anx", "link-anx", "link-graphml", "link-csv", "link-anx"]
    assert json.loads(audit.details.iloc[0])["purpose"] == "handover to NYP"


def test_groups_export_errors_are_one_line(grouped_store, tmp_path, capsys):
    one_line_error(run_cli(capsys, "groups", "export", "GR99999", "--out", tmp_path / "g.html", "--db",
                           grouped_store), "GR99999")
    one_line_error(run_cli(capsys, "groups", "export", "GR00001", "--format", "pdf", "--out", tmp_path / "g.pdf",
                           "--db", grouped_store), "unknown format", "html")
    one_line_error(run_cli(capsys, "groups", "export", "GR00001", "--format", "html", "--out", tmp_path / "g.anx",
                           "--db", grouped_store), ".html")
    one_line_error(run_cli(capsys, "groups", "export", "GR00001", "--out", tmp_path / "g.docx",
                           "--db", grouped_store), "--format")
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    one_line_error(run_cli(capsys, "groups", "export", "GR00001", "--out", blocker / "g.html",
                           "--db", grouped_store), "is a file")
    one_line_error(run_cli(capsys, "groups", "export", "GR00001", "--out", tmp_path / "g.html", "--purpose",
                           "two\nlines", "--db", grouped_store), "purpose")
    assert not list(tmp_path.glob("g.*"))


def test_link_export_national_and_filtered(grouped_store, tmp_path, capsys):
    from workbench.linkage.network import build_network
    from workbench.store import open_store

    with open_store(grouped_store, read_only=True) as store:
        everything = build_network(store)
        york = build_network(store, force_code="20")
        march_2 = build_network(store, since="2025-03-02", until="2025-03-02")
    code, text, err = run_cli(capsys, "link", "export", "--out", tmp_path / "all.html", "--db", grouped_store, "--json")
    assert code == 0, err
    data = json.loads(parse((tmp_path / "all.html").read_text()).scripts[0])
    assert {n["id"] for n in data["nodes"]} == set(everything.nodes.node_id)
    assert "Link chart: England and Wales" in (tmp_path / "all.html").read_text()
    code, text, err = run_cli(capsys, "link", "export", "--out", tmp_path / "york.anx", "--force", "20",
                              "--db", grouped_store, "--json")
    assert code == 0, err
    assert json.loads(text)["nodes"] == len(york.nodes) and json.loads(text)["force_code"] == "20"
    code, text, err = run_cli(capsys, "link", "export", "--out", tmp_path / "m", "--format", "csv", "--since",
                              "2025-03-02", "--until", "2025-03-02", "--db", grouped_store)
    assert code == 0 and "wrote " in text, err
    assert {r["node_id"] for r in read_csv(tmp_path / "m" / "nodes.csv")} == set(march_2.nodes.node_id)
    one_line_error(run_cli(capsys, "link", "export", "--out", tmp_path / "x.html", "--force", "Atlantis",
                           "--db", grouped_store), "unknown force")
    one_line_error(run_cli(capsys, "link", "export", "--out", tmp_path / "x.html", "--since", "soon",
                           "--db", grouped_store), "since")
    one_line_error(run_cli(capsys, "link", "export", "--out", tmp_path / "x.html", "--since", "2030-01-01",
                           "--db", grouped_store), "nothing to export")
    one_line_error(run_cli(capsys, "link", "export", "--out", tmp_path / "x.html", "--format", "svg",
                           "--db", grouped_store), "unknown format")
    assert not (tmp_path / "x.html").exists()


def test_link_export_groups_only(grouped_store, tmp_path, capsys):
    from workbench.linkage.network import build_network
    from workbench.store import open_store

    with open_store(grouped_store, read_only=True) as store:
        members = build_network(store, person_ids=["RP0000001", "RP0000002", "RP0000003"])
    code, text, err = run_cli(capsys, "link", "export", "--out", tmp_path / "g.graphml", "--groups-only",
                              "--db", grouped_store, "--json")
    assert code == 0, err
    import networkx as nx

    graph = nx.read_graphml(tmp_path / "g.graphml")
    assert set(graph.nodes) == set(members.nodes.node_id) and "P:RP0000004" not in graph.nodes
    assert json.loads(text)["groups_only"] is True
    with open_store(grouped_store) as store:
        store.con.execute("UPDATE groups SET status = 'retired'")
    one_line_error(run_cli(capsys, "link", "export", "--out", tmp_path / "h.graphml", "--groups-only",
                           "--db", grouped_store), "no active groups")
