"""Intelligence packages (issue 13) built for real on the quick linkage world (scale 0.1, seed 7; shared with the
cross-border and linkage accuracy tests, same folder), for its smallest group that crosses three or more forces,
after hostile text was planted in the store: a store name and town that a spreadsheet would run as formulas and
that carry <script>, a member's name, a handling condition and the analyst's words.

Outputs are read back as a recipient would read them (pypdf's text layer, python-docx runs, openpyxl cells, the
CSV text, the HTML in headless Chromium offline). No test pins counts of the world: expectations are recomputed
from the store with the tests' own SQL."""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from benchmarks import bench_crossborder, bench_linkage
from tests.cli_helpers import invoke, one_line_error
from workbench import config, packages
from workbench.errors import WorkbenchError
from workbench.store import open_store

SETTINGS = {"body_incidents_max": 30}          # a short body keeps each PDF quick; the annex holds every row
FORMULA_NAME = '=HYPERLINK("http://example.invalid","x") <script>alert("store")</script>'
FORMULA_TOWN = "@SUM(1+1)"
HOSTILE_MEMBER = '+cmd|" /C calc"!A0 <script>alert("member")</script>'
HOSTILE_CONDITION = "-2+3 <img src=x onerror=alert(1)> only with the retailer's consent"
WORDS = 'Bottom line: <script>alert("words")</script> this group sweeps electronics.\n\n=1+2 is not a formula here.'


@pytest.fixture(scope="module")
def quick_db(tmp_path_factory):
    root = tmp_path_factory.getbasetemp() / "bench_linkage_quick"
    _world, db = bench_linkage.build(root / "linkage_quick", bench_linkage.QUICK_SCALE)
    bench_crossborder._resolve_if_needed(str(db))
    return db


@pytest.fixture(scope="module")
def built(quick_db, tmp_path_factory):
    """A copy of the quick store with hostile text planted, and a draft package of one group built from it."""
    from workbench import crossborder

    folder = tmp_path_factory.mktemp("packages")
    db = folder / "store.duckdb"
    shutil.copy(quick_db, db)
    with open_store(db) as store:
        several = crossborder.several_forces(store)
        several = several[several.forces >= 3].sort_values(["incidents", "group_id"])
        group = several.group_id.iloc[0]
        series = crossborder.get_series(store, group)
        first = series.incidents.dropna(subset=["store_id"]).sort_values(["occurred_at", "incident_id"]).iloc[0]
        store.con.execute("UPDATE stores SET name = $n, town = $t WHERE store_id = $s",
                          {"n": FORMULA_NAME, "t": FORMULA_TOWN, "s": first.store_id})
        member = store.query("linkage/groups_members", group_id=group).person_id.iloc[0]
        store.con.execute("UPDATE resolved_persons SET display_name = $n WHERE person_id = $p",
                          {"n": HOSTILE_MEMBER, "p": member})
        referral = store.sql("SELECT min(r.referral_id) AS r FROM referral_incidents ri JOIN referrals r "
                             "USING (referral_id) WHERE r.is_current AND ri.incident_id = $i",
                             {"i": int(first.incident_id)}).r.iloc[0]
        store.con.execute("UPDATE referrals SET handling_code = 'C', handling_conditions = $c WHERE referral_id = $r",
                          {"c": HOSTILE_CONDITION, "r": int(referral)})
        packages.save_words(store, group, "summary", WORDS)
        result = packages.build(store, group, folder / "pkg", purpose="test: first handover", settings=SETTINGS)
    return {"db": db, "group": group, "dir": folder / "pkg", "result": result, "first": first, "member": member,
            "root": folder}


def _pdf_pages(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() or "" for page in PdfReader(str(path)).pages]


def test_pypdf_is_installed():
    import pypdf

    assert pypdf.__version__ == "7.1.0"


def test_pdf_marked_top_and_bottom_of_every_page_with_version_and_page_numbers(built):
    pages = _pdf_pages(built["dir"] / "package.pdf")
    marking = config.security_marking()
    assert len(pages) == built["result"]["pdf_pages"] > 1
    for n, text in enumerate(pages, start=1):
        assert text.count(marking) >= 2, (n, text[:200])
        assert f"Page {n} of {len(pages)}" in text
        assert f"Version {built['result']['version']} (draft)" in text
        assert "DRAFT" in text


def test_pdf_shows_grading_handling_conditions_and_sources(built):
    text = " ".join(" ".join(_pdf_pages(built["dir"] / "package.pdf")).split())
    assert "lawful sharing permitted with conditions" in text
    assert "only with the retailer's consent" in text               # the planted condition, printed
    assert "Source: query crossborder/incidents" in text            # every table names its query
    for title in ("Subjects", "Criminal activity", "Geography", "Associations", "Vehicles", "Evidence held",
                  "Risk and harm", "Intelligence gaps", "Recommendations"):
        assert title in text


def test_docx_header_and_footer_carry_marking_draft_and_page_fields(built):
    import docx

    document = docx.Document(str(built["dir"] / "package.docx"))
    marking = config.security_marking()
    section = document.sections[0]
    header = [p.text for p in section.header.paragraphs]
    footer_xml = section.footer._element.xml
    assert marking in header and "DRAFT" in header
    assert marking in [p.text for p in section.footer.paragraphs]
    assert " PAGE " in footer_xml and " NUMPAGES " in footer_xml
    body = packages.docx_texts(built["dir"] / "package.docx")
    assert any("<script>alert(\"words\")</script>" in t for t in body)    # the analyst's text, as text
    assert document.core_properties.keywords == marking


def test_annex_cells_formula_safe_in_xlsx_and_csv(built):
    import openpyxl

    book = openpyxl.load_workbook(str(built["dir"] / "annex-incidents.xlsx"))
    ws = book.worksheets[0]
    header = [c.value for c in ws[1]]
    col_name, col_town = header.index("store_name"), header.index("town")
    names = {row[col_name].value for row in ws.iter_rows(min_row=2)}
    towns = {row[col_town].value for row in ws.iter_rows(min_row=2)}
    assert "'" + FORMULA_NAME in names and FORMULA_NAME not in names
    assert "'" + FORMULA_TOWN in towns
    assert not any(cell.data_type == "f" for row in ws.iter_rows() for cell in row)
    assert config.security_marking() in ws.oddHeader.center.text
    with open(built["dir"] / "annex-incidents.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert any(r["store_name"] == "'" + FORMULA_NAME for r in rows)
    assert not any(v.lstrip().startswith(("=", "+", "@")) for r in rows for v in r.values() if v)
    referrals = list(csv.DictReader(open(built["dir"] / "annex-referrals.csv", encoding="utf-8-sig")))
    assert any(r["handling_conditions"] == "'" + HOSTILE_CONDITION for r in referrals)


def test_annex_lists_every_incident_referral_and_grading_of_the_series(built):
    """Recomputed with the test's own SQL: every current referral behind the package, graded as the store holds."""
    with open_store(built["db"], read_only=True) as store:
        ids = [int(i) for i in json.loads((built["dir"] / "manifest.json").read_text())["contents"]["incidents"]]
        expected = store.sql(
            "SELECT ri.incident_id, r.referral_id, r.source_evaluation || r.intelligence_assessment || r.handling_code "
            "AS g, r.grading_scheme FROM referral_incidents ri JOIN referrals r USING (referral_id) "
            "WHERE r.is_current AND ri.incident_id IN (SELECT unnest($ids))", {"ids": ids})
    rows = list(csv.DictReader(open(built["dir"] / "annex-referrals.csv", encoding="utf-8-sig")))
    assert sorted(int(r["referral_id"]) for r in rows) == sorted(expected.referral_id.astype(int))
    graded = expected[(expected.grading_scheme == "3x5x2") & expected.g.str.fullmatch(r"[123][A-E][PC]").fillna(False)]
    by_id = {int(r["referral_id"]): r["grading"] for r in rows}
    assert len(graded) and all(by_id[int(r.referral_id)] == r.g for r in graded.itertuples())
    incidents = list(csv.DictReader(open(built["dir"] / "annex-incidents.csv", encoding="utf-8-sig")))
    assert sorted(int(r["incident_id"]) for r in incidents) == sorted(ids)


def test_no_source_reference_or_narrative_in_any_output(built):
    """The withheld fields, found by the test's own query, appear in no file read back."""
    with open_store(built["db"], read_only=True) as store:
        ids = json.loads((built["dir"] / "manifest.json").read_text())["contents"]["incidents"]
        refs = store.sql("SELECT DISTINCT r.source_ref FROM referral_incidents ri JOIN referrals r USING (referral_id) "
                         "WHERE ri.incident_id IN (SELECT unnest($ids)) AND length(r.source_ref) >= 6",
                         {"ids": [int(i) for i in ids]}).source_ref.tolist()
    assert refs
    for path in sorted(built["dir"].iterdir()):
        text = "".join(packages.read_back(path).split())
        for ref in refs:
            assert "".join(ref.split()) not in text, (path.name, ref)


@pytest.mark.browser
def test_html_offline_no_request_no_script_despite_script_in_free_text(built, chromium_path):
    from tests.browser_helpers import open_offline

    page_html = built["dir"] / "package.html"
    raw = page_html.read_text(encoding="utf-8")
    assert "<script" not in raw.lower().replace("&lt;script", "")
    seen = open_offline(chromium_path, page_html, lambda page: {
        "text": page.inner_text("body"), "scripts": page.evaluate("document.scripts.length"),
        "marks": page.evaluate("[...document.querySelectorAll('.wb-marking')].map(e => e.textContent)")})
    assert seen.attempted == [] and seen.dialogs == [] and seen.page_errors == []
    assert seen.result["scripts"] == 0
    assert '<script>alert("words")</script>' in seen.result["text"]
    assert '<script>alert("member")</script>' in seen.result["text"]
    assert seen.result["marks"] == [config.security_marking()] * 2


def test_verify_passes_then_catches_a_changed_store_and_a_changed_file(built, tmp_path):
    with open_store(built["db"], read_only=True) as store:
        assert packages.verify(store, built["dir"])["ok"]
    db = tmp_path / "changed.duckdb"
    shutil.copy(built["db"], db)
    folder = tmp_path / "pkg"
    shutil.copytree(built["dir"], folder)
    with open_store(db) as store:
        store.con.execute("UPDATE incidents SET value_gbp = value_gbp + 1000 WHERE incident_id = $i",
                          {"i": int(built["first"].incident_id)})
    with open_store(db, read_only=True) as store:
        result = packages.verify(store, folder)
    assert not result["ok"]
    assert any(p.startswith("figure value_gbp") for p in result["problems"])
    assert any(p.startswith("annex incidents") for p in result["problems"])
    (folder / "package.html").write_text("changed", encoding="utf-8")
    with open_store(built["db"], read_only=True) as store:
        result = packages.verify(store, folder)
    assert result["problems"] == [p for p in result["problems"] if p.startswith("package.html")] != []


@pytest.mark.slow
def test_rebuild_is_byte_identical_but_for_the_build_time(built, tmp_path):
    with open_store(built["db"]) as store:
        again = packages.build(store, built["group"], tmp_path / "again", purpose="test: rebuild", settings=SETTINGS)
    assert again["version"] == built["result"]["version"]
    names = sorted(p.name for p in built["dir"].iterdir())
    assert names == sorted(p.name for p in (tmp_path / "again").iterdir())
    differ = [n for n in names if (built["dir"] / n).read_bytes() != (tmp_path / "again" / n).read_bytes()]
    assert set(differ) <= {"manifest.json", "package.zip"}
    a = json.loads((built["dir"] / "manifest.json").read_text())
    b = json.loads((tmp_path / "again" / "manifest.json").read_text())
    a.pop(packages.BUILD_TIME_FIELD), b.pop(packages.BUILD_TIME_FIELD)
    assert a == b


@pytest.mark.slow
def test_redaction_check_refuses_a_planted_source_reference(built, tmp_path):
    """The analyst pastes a source's own reference into the summary: the read-back finds it in the outputs, the
    build fails with one line and leaves no file (nor its hidden build folder)."""
    db = tmp_path / "planted.duckdb"
    shutil.copy(built["db"], db)
    with open_store(db) as store:
        ref = store.sql("SELECT r.source_ref FROM referral_incidents ri JOIN referrals r USING (referral_id) "
                        "WHERE ri.incident_id = $i AND length(r.source_ref) >= 6 LIMIT 1",
                        {"i": int(built["first"].incident_id)}).source_ref.iloc[0]
        packages.save_words(store, built["group"], "assessment", f"See the retailer's file {ref} for the CCTV.")
        with pytest.raises(WorkbenchError, match="redaction check failed: a withheld source_ref"):
            packages.build(store, built["group"], tmp_path / "out", purpose="test: planted", settings=SETTINGS)
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")] == []     # no hidden build folder


@pytest.mark.slow
def test_forbidden_term_is_redacted_everywhere_and_checked(built, tmp_path):
    """A configured forbidden term (here part of the planted member's name) is replaced in every computed text and
    found in no output read back."""
    term = "calc"
    settings = dict(SETTINGS, sanitise=dict(packages.package_settings()["sanitise"], forbidden_terms=[term]))
    db = tmp_path / "term.duckdb"
    shutil.copy(built["db"], db)
    with open_store(db) as store:
        result = packages.build(store, built["group"], tmp_path / "ok", purpose="test: term", settings=settings)
    assert result["redactions"] >= 1
    for path in (tmp_path / "ok").iterdir():
        assert term not in packages.read_back(path).casefold(), path.name


def test_read_back_finds_a_value_in_every_format(built):
    """The check reads each format's text the way a recipient sees it: a value planted in the content (the hostile
    member's name, a store name) is found in the PDF text layer, the DOCX runs, the XLSX cells, the CSV, the HTML
    and the ANX, and a value that is nowhere is found in none."""
    files = sorted(p for p in built["dir"].iterdir() if p.suffix != ".png" and p.name != "package.zip")
    hits = packages.check_outputs(files, [{"kind": "planted", "value": '/C calc"!A0', "where": "test"}])
    found = {Path(h["file"]).name for h in hits}
    assert {"package.html", "package.pdf", "package.docx", "associations.anx"} <= found, found
    hits = packages.check_outputs(files, [{"kind": "planted", "value": FORMULA_NAME, "where": "test"}])
    found = {Path(h["file"]).name for h in hits}
    assert {"annex-incidents.csv", "annex-incidents.xlsx", "package.html", "package.docx"} <= found, found
    assert packages.check_outputs(files, [{"kind": "planted", "value": "zq-not-anywhere-7731", "where": "t"}]) == []


def test_words_versions_kept_and_used(built, tmp_path):
    db = tmp_path / "words.duckdb"
    shutil.copy(built["db"], db)
    with open_store(db) as store:
        packages.save_words(store, built["group"], "summary", "Second thoughts.")
        history = packages.words_history(store, built["group"])
        summary = history[history.section == "summary"]
        assert summary.version.tolist() == [2, 1] and summary.body.iloc[1] == WORDS
        assert packages.latest_words(store, built["group"])["summary"]["body"] == "Second thoughts."
        pkg = packages.compute(store, built["group"], settings=SETTINGS)
        assert pkg.words["summary"]["version"] == 2
        # the earlier package still verifies: it is recomputed with the words versions it recorded
        assert packages.verify(store, built["dir"])["ok"]
        with pytest.raises(WorkbenchError, match="not one of the analyst's sections"):
            packages.save_words(store, built["group"], "gaps", "computed, not written")


@pytest.mark.slow
def test_states_approval_removes_draft_and_dissemination_is_logged(built, tmp_path, capsys):
    db = tmp_path / "states.duckdb"
    shutil.copy(built["db"], db)
    group, version = built["group"], built["result"]["version"]
    # review and approve name the package folder: its manifest says which subject and version
    one_line_error(invoke(capsys, "package", "approve", built["dir"], "--db", db), "review it first")
    assert invoke(capsys, "package", "review", built["dir"], "--db", db).exit_code == 0
    r = invoke(capsys, "package", "approve", built["dir"], "--db", db, "--purpose", "test: approved", "--json")
    record = json.loads(r.output)
    assert record["state"] == "approved" and record["approved_by"] and record["version"] == version
    assert invoke(capsys, "package", "review", built["dir"], "--db", db).exit_code == 0     # stays approved
    with open_store(db) as store:
        assert packages.versions(store, group).set_index("version").state[version] == "approved"
        result = packages.build(store, group, tmp_path / "approved", purpose="test: approved", settings=SETTINGS)
    assert result["version"] == version and result["state"] == "approved"
    assert not any("DRAFT" in t for t in _pdf_pages(tmp_path / "approved" / "package.pdf"))
    r = invoke(capsys, "package", "disseminate", tmp_path / "approved", "--db", db)
    one_line_error(r, "--purpose is required")
    r = invoke(capsys, "package", "disseminate", tmp_path / "approved", "--db", db, "--purpose", "test handover",
               "--json")
    assert r.exit_code == 0, r.err
    with open_store(db, read_only=True) as store:
        log = packages.disseminations(store, group)
        audit = store.sql("SELECT action, details FROM audit_log WHERE action LIKE 'package-%' ORDER BY seq")
    manifest = json.loads((tmp_path / "approved" / "manifest.json").read_text())["package"]
    assert set(log.force_code) == {manifest["lead_force"], *manifest["copies"]}
    assert (log[log.role == "lead"].force_code == manifest["lead_force"]).all()
    assert set(log.handling_code) == {manifest["handling_code"]} and set(log.version) == {version}
    builds = [json.loads(d) for a, d in zip(audit.action, audit.details) if a == "package-build"]
    assert builds and all(b["purpose"] for b in builds)
    assert "package-disseminate" in set(audit.action)


@pytest.mark.slow
def test_diff_lists_what_is_new_since_the_last_handover(built, tmp_path):
    """An earlier handover built before one incident's referrals were current: the later one lists it as new."""
    db = tmp_path / "diff.duckdb"
    shutil.copy(built["db"], db)
    incident = int(built["first"].incident_id)
    with open_store(db) as store:
        store.con.execute("UPDATE referrals SET is_current = false WHERE referral_id IN (SELECT referral_id FROM "
                          "referral_incidents WHERE incident_id = $i)", {"i": incident})
        packages.build(store, built["group"], tmp_path / "old", purpose="test: earlier", settings=SETTINGS)
    result = packages.diff(tmp_path / "old", built["dir"])
    assert result["incidents"]["new"] == [str(incident)] and result["incidents"]["gone"] == []
    assert any(f["id"] == "incidents" and f["new"] == f["old"] + 1 for f in result["figures"])


def test_cli_needs_purpose_and_gives_one_line_errors(built, capsys, tmp_path):
    r = invoke(capsys, "package", "build", "--group", built["group"], "--out", tmp_path / "x", "--db", built["db"])
    one_line_error(r, "--purpose is required")
    r = invoke(capsys, "package", "build", "--group", "GR99999", "--out", tmp_path / "x", "--db", built["db"],
               "--purpose", "test")
    one_line_error(r, "GR99999")
    r = invoke(capsys, "package", "verify", tmp_path, "--db", built["db"])
    one_line_error(r, "manifest.json")
    r = invoke(capsys, "package", "build", "--group", built["group"], "--person", "RP0000001", "--out", tmp_path / "x",
               "--db", built["db"], "--purpose", "test")
    one_line_error(r, "exactly one subject")
    r = invoke(capsys, "package", "verify", built["dir"], "--db", built["db"], "--json")
    assert r.exit_code == 0 and json.loads(r.output)["ok"] is True
