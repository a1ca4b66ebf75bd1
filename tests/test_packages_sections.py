"""Intelligence packages (issue 13): the analyst's choice of sections, the atomic rebuild, the cap on the names
printed per subject, the charts' text alternatives and colours, and no "NaT" for a missing date of birth.

Built for real on the quick linkage world (tests/test_packages_build.quick_db: scale 0.1, seed 7, shared by the
session), for its smallest group crossing three or more forces. Outputs are read back as a recipient reads them
(HTML parsed, pypdf's text layer and structure tree, python-docx headings and picture descriptions, the ANX XML).
Expectations come from the store through the tests' own SQL, never from the library's numbers."""
from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.cli_helpers import invoke, one_line_error
from tests.test_packages_build import quick_db  # noqa: F401 - the shared session world (fixture)
from workbench import packages
from workbench.errors import WorkbenchError
from workbench.packages import builder, charts, formats
from workbench.store import open_store

SETTINGS = {"body_incidents_max": 20}
OMIT = ["associations", "vehicles", "tactics", "gaps"]
# text only these sections print: their headings and their tables' titles
ONLY_IN = {"associations": ["Associations", "Strongest co-offending links"],
           "vehicles": ["Clone flag"],
           "tactics": ["Tactics and modus operandi", "Modus operandi"],
           "gaps": ["Intelligence gaps", "Incidents with more offenders seen than named"]}
SPELLINGS = 13          # spellings planted for one member's name
NAMES_MAX = 4


@pytest.fixture(scope="module")
def world(quick_db, tmp_path_factory):  # noqa: F811
    """A copy of the quick store with a member without any date of birth and a member written 13 ways, and a full
    package of one group built from it."""
    from workbench import crossborder

    folder = tmp_path_factory.mktemp("packages_sections")
    db = folder / "store.duckdb"
    shutil.copy(quick_db, db)
    with open_store(db) as store:
        several = crossborder.several_forces(store)
        group = several[several.forces >= 3].sort_values(["incidents", "group_id"]).group_id.iloc[0]
        members = store.sql("SELECT m.person_id, count(*) AS n, bool_or(p.dob IS NOT NULL) AS has_dob "
                            "FROM group_members m JOIN person_links l USING (person_id) "
                            "JOIN resolved_persons p USING (person_id) WHERE m.group_id = $g "
                            "GROUP BY 1 ORDER BY n DESC, 1", {"g": group})
        many, undated = str(members.person_id.iloc[0]), str(members.person_id.iloc[1])
        dated = str(members.iloc[2:][members.iloc[2:].has_dob].person_id.iloc[0])
        mentions = store.sql("SELECT l.mention_id FROM person_links l JOIN person_mentions m USING (mention_id) "
                             "JOIN referrals r ON r.referral_id = m.referral_id AND r.is_current "
                             "WHERE l.person_id = $p ORDER BY l.mention_id", {"p": many}).mention_id.tolist()
        assert len(mentions) >= SPELLINGS, "the member with most mentions has fewer than 13"
        for n, mention in enumerate(mentions):      # spelling k written k+1 times at most: a clear frequency order
            spelling = f"Spelling {min(n, SPELLINGS - 1):02d} Smith"
            store.con.execute("UPDATE person_mentions SET full_name = $n WHERE mention_id = $m",
                              {"n": spelling, "m": int(mention)})
        store.con.execute("UPDATE resolved_persons SET dob = NULL WHERE person_id = $p", {"p": undated})
        store.con.execute("UPDATE person_mentions SET dob = NULL WHERE mention_id IN (SELECT mention_id FROM "
                          "person_links WHERE person_id = $p)", {"p": undated})
        full = packages.build(store, group, folder / "full", purpose="test: full package", settings=SETTINGS)
    return {"db": db, "group": group, "root": folder, "full": folder / "full", "result": full, "many": many,
            "undated": undated, "dated": dated}


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return " ".join(" ".join(page.extract_text() or "" for page in PdfReader(str(path)).pages).split())


def _docx_headings(path: Path) -> list[str]:
    import docx

    """The section headings ("3. Criminal activity"), in order."""
    return [p.text for p in docx.Document(str(path)).paragraphs
            if p.style.name == "Heading 1" and re.match(r"\d+\. ", p.text)]


def _html_section_ids(path: Path) -> list[str]:
    return [k for k in re.findall(r'<h2 id="pk-([a-z]+)">', path.read_text(encoding="utf-8")) if k != "provenance"]


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _hidden_siblings(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}."))


# -- sections ---------------------------------------------------------------------------------------------------
def test_full_package_holds_every_section(world):
    """The control for the omission test: every section's own text is in every format of the full package."""
    full = world["full"]
    assert _html_section_ids(full / "package.html") == list(packages.SECTIONS)
    text, headings = _pdf_text(full / "package.pdf"), " ".join(_docx_headings(full / "package.docx"))
    docx_text = " ".join(packages.docx_texts(full / "package.docx"))
    for needles in ONLY_IN.values():
        for needle in needles:
            assert needle in text and needle in docx_text, needle
    assert "Tactics and modus operandi" in headings and (full / "associations.anx").is_file()


def test_omitted_sections_absent_from_html_pdf_docx_and_verify_passes(world, capsys):
    out = world["root"] / "omitted"
    r = invoke(capsys, "package", "build", "--group", world["group"], "--omit", ",".join(OMIT), "--out", out,
               "--db", world["db"], "--purpose", "test: some sections", "--json")
    assert r.exit_code == 0, r.err
    kept = [s for s in packages.SECTIONS if s not in OMIT]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["package"]["sections"] == kept and manifest["package"]["sections_omitted"] == OMIT
    assert _html_section_ids(out / "package.html") == kept
    html_text = (out / "package.html").read_text(encoding="utf-8")
    text = _pdf_text(out / "package.pdf")
    docx_text = " ".join(packages.docx_texts(out / "package.docx"))
    headings = _docx_headings(out / "package.docx")
    assert headings == [f"{n}. {packages.content.SECTION_TITLES[k]}" for n, k in enumerate(kept, start=1)]
    for section, needles in ONLY_IN.items():
        for needle in needles:
            assert needle not in text and needle not in docx_text and f">{needle}<" not in html_text, needle
    assert "Timeline" in text and "Evidence held" in text                # the kept ones are there
    names = {f["name"] for f in manifest["files"]}
    assert "associations.anx" not in names and "chart-links.png" not in names and "chart-map.png" in names
    assert sorted(p.name for p in out.iterdir()) == sorted(names | {"manifest.json", "package.zip"})
    # no figure of a left-out section is listed, and the summary's still are
    assert not any(f.startswith("gap_") for f in manifest["figures"]) and "incidents" in manifest["figures"]
    with open_store(world["db"], read_only=True) as store:
        check = packages.verify(store, out)
    assert check["ok"], check["problems"]


def test_rebuild_keeps_the_chosen_sections_and_all_brings_them_back(world, capsys):
    out = world["root"] / "rechosen"
    with open_store(world["db"]) as store:
        first = packages.build(store, world["group"], out, purpose="test: chosen", settings=SETTINGS,
                               sections="summary,subjects,activity,recommendations")
        again = packages.build(store, world["group"], out, purpose="test: rebuilt", settings=SETTINGS)
    assert again["sections"] == first["sections"] == ["summary", "subjects", "activity", "recommendations"]
    assert again["sections_from"] == "earlier package" and again["version"] == first["version"]
    assert _html_section_ids(out / "package.html") == first["sections"]
    r = invoke(capsys, "package", "build", "--group", world["group"], "--sections", "all", "--out", out, "--db",
               world["db"], "--purpose", "test: all again", "--json")
    assert r.exit_code == 0, r.err
    assert _html_section_ids(out / "package.html") == list(packages.SECTIONS) and (out / "associations.anx").exists()
    with open_store(world["db"], read_only=True) as store:
        assert packages.verify(store, out)["ok"]


def test_verify_reports_a_package_whose_sections_were_tampered_with(world, tmp_path):
    folder = tmp_path / "pkg"
    shutil.copytree(world["root"] / "omitted", folder)
    path = folder / "manifest.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["settings"]["sections"] = list(packages.SECTIONS)          # recomputed with every section now
    path.write_text(json.dumps(doc), encoding="utf-8")
    with open_store(world["db"], read_only=True) as store:
        check = packages.verify(store, folder)
    assert not check["ok"] and any(p.startswith("sections: the package holds") for p in check["problems"])


def test_wrong_section_names_are_one_line_errors(world, capsys, tmp_path):
    for flags, needle in ((["--omit", "summary"], "cannot be left out"),
                          (["--sections", "subjects,bogus"], "'bogus' is not a package section"),
                          (["--sections", "subjects"], "cannot be left out")):
        r = invoke(capsys, "package", "build", "--group", world["group"], *flags, "--out", tmp_path / "x", "--db",
                   world["db"], "--purpose", "test")
        one_line_error(r, needle)
    assert not (tmp_path / "x").exists()
    with pytest.raises(WorkbenchError, match="sections"):
        packages.package_settings(overrides={"sections": "subjects"})


# -- atomic rebuild ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("breaks", ["write_docx", "audit", "interrupt"])
def test_failed_rebuild_leaves_the_earlier_package_intact_and_no_hidden_folder(world, tmp_path, monkeypatch, breaks):
    folder = tmp_path / "pkg"
    shutil.copytree(world["full"], folder)
    before = _snapshot(folder)

    def fail(*_a, **_k):
        raise (KeyboardInterrupt() if breaks == "interrupt" else OSError(28, "No space left on device"))
    if breaks == "audit":                                 # after the swap: the new package is put back out
        monkeypatch.setattr(builder.exports, "audit_export", fail)
    else:
        monkeypatch.setattr(formats, "write_anx" if breaks == "interrupt" else breaks, fail)   # Ctrl-C late on
    with open_store(world["db"]) as store:
        packages.save_words(store, world["group"], "assessment", f"A new assessment ({breaks}).")
        with pytest.raises((OSError, KeyboardInterrupt)):
            packages.build(store, world["group"], folder, purpose="test: rebuild that fails", settings=SETTINGS)
    assert _snapshot(folder) == before
    assert _hidden_siblings(folder) == []
    with open_store(world["db"], read_only=True) as store:
        assert packages.verify(store, folder)["ok"]


def test_successful_rebuild_replaces_the_package_whole(world, tmp_path):
    """The other side: a rebuild that succeeds replaces every file (a section left out leaves no stale file)."""
    folder = tmp_path / "pkg"
    shutil.copytree(world["full"], folder)
    with open_store(world["db"]) as store:
        packages.build(store, world["group"], folder, purpose="test: rebuild", settings=SETTINGS, omit=["associations"])
    names = {f["name"] for f in json.loads((folder / "manifest.json").read_text())["files"]}
    assert sorted(p.name for p in folder.iterdir()) == sorted(names | {"manifest.json", "package.zip"})
    assert not (folder / "associations.anx").exists() and _hidden_siblings(folder) == []


# -- names cap --------------------------------------------------------------------------------------------------
def test_names_as_written_capped_most_frequent_first(world):
    with open_store(world["db"], read_only=True) as store:
        spelled = store.sql(
            "SELECT m.full_name, count(*) AS n FROM person_links l JOIN person_mentions m USING (mention_id) "
            "JOIN referrals r ON r.referral_id = m.referral_id AND r.is_current WHERE l.person_id = $p "
            "AND m.full_name IS NOT NULL GROUP BY 1 ORDER BY n DESC, full_name", {"p": world["many"]})
        pkg = packages.compute(store, world["group"], settings=dict(SETTINGS, names_written_max=NAMES_MAX))
        default = packages.compute(store, world["group"], settings=SETTINGS)
    assert len(spelled) == SPELLINGS
    expected = "; ".join(spelled.full_name.head(NAMES_MAX)) + f" (+{SPELLINGS - NAMES_MAX} more)"
    table = pkg.section("subjects")["tables"][0]
    row = next(r for r in table["rows"] if r[0] == world["many"])
    assert row[table["columns"].index("Names as written")] == expected
    row = next(r for r in default.section("subjects")["tables"][0]["rows"] if r[0] == world["many"])
    assert row[table["columns"].index("Names as written")] == "; ".join(spelled.full_name.head(10)) + " (+3 more)"
    html = (world["full"] / "package.html").read_text(encoding="utf-8")
    assert "; ".join(spelled.full_name.head(10)) + " (+3 more)" in html and spelled.full_name.iloc[-1] not in html
    for bad in (0, "ten"):
        with pytest.raises(WorkbenchError, match="names_written_max"):
            packages.package_settings(overrides={"names_written_max": bad})


# -- accessibility ----------------------------------------------------------------------------------------------
class _Images(HTMLParser):
    """Every <svg> and <img> with its attributes and the text of its first <title> child; every id."""

    def __init__(self):
        super().__init__()
        self.images, self.ids, self._svg, self._depth, self._in_title = [], set(), None, 0, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "img":
            self.images.append({"tag": "img", "attrs": attrs, "title": None, "first": None})
        elif tag == "svg":
            self._svg = {"tag": "svg", "attrs": attrs, "title": "", "first": None, "circles": 0}
            self.images.append(self._svg)
        elif self._svg is not None:
            self._svg["first"] = self._svg["first"] or tag
            self._in_title = tag == "title" and self._svg["first"] == "title" and not self._svg["title"]
            if tag == "circle" and attrs.get("r") == "3":
                self._svg["circles"] += 1

    def handle_endtag(self, tag):
        if tag == "svg":
            self._svg = None
        if tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self._svg["title"] += data


def test_every_image_has_a_text_alternative_in_html_docx_and_pdf(world):
    import docx
    from docx.oxml.ns import qn
    from pypdf import PdfReader

    parser = _Images()
    parser.feed((world["full"] / "package.html").read_text(encoding="utf-8"))
    svgs = [i for i in parser.images if i["tag"] == "svg"]
    assert len(svgs) == 2 and all(i["tag"] == "svg" or i["attrs"].get("alt") for i in parser.images)
    for svg in svgs:
        assert svg["attrs"].get("role") == "img" and svg["first"] == "title" and len(svg["title"]) > 40
        assert set(svg["attrs"]["aria-labelledby"].split()) <= parser.ids
    map_alt, links_alt = (s["title"] for s in svgs)
    assert f"Map of the {svgs[0]['circles']:,} incidents with a place" in map_alt
    with open_store(world["db"], read_only=True) as store:
        members = store.sql(
            "SELECT count(DISTINCT m.person_id) AS n FROM group_members m JOIN groups g USING (group_id) "
            "JOIN person_links l ON l.person_id = m.person_id JOIN person_mentions pm ON pm.mention_id = l.mention_id "
            "JOIN referrals r ON r.referral_id = pm.referral_id AND r.is_current "
            "WHERE g.group_id = $g AND g.status = 'active'", {"g": world["group"]}).n.iloc[0]
    assert links_alt.startswith(f"Association chart: {members:,} persons")
    # DOCX: each picture's description (Word's Alt Text) is the same text
    document = docx.Document(str(world["full"] / "package.docx"))
    described = [(d.get("descr"), d.get("name")) for d in document.element.body.iter(qn("wp:docPr"))]
    assert sorted(described) == sorted([(map_alt, "chart-map"), (links_alt, "chart-links")])
    # PDF: tagged, the two figures carry the SVG titles as /Alt
    reader = PdfReader(str(world["full"] / "package.pdf"))
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]
    alts = []

    def walk(node, depth=0):
        node = node.get_object()
        if isinstance(node, dict):
            if node.get("/S") == "/Figure" and "/Alt" in node:
                alts.append(str(node["/Alt"]))
            kids = node.get("/K")
            for kid in (kids if isinstance(kids, list) else [kids] if kids is not None else []):
                if depth < 60 and hasattr(kid, "get_object"):
                    walk(kid, depth + 1)
                elif depth < 60 and isinstance(kid, (dict, list)):
                    walk(kid, depth + 1)
    walk(root["/StructTreeRoot"])
    assert sorted(set(alts)) == sorted({map_alt, links_alt})


def _luminance(hex_colour: str) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def _contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_chart_colours_contrast_with_the_background():
    """WCAG 2.1: 3:1 for graphics (1.4.11); the force colours, which also key the legend, 4.5:1."""
    assert _contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)       # the formula, on a known pair
    for colour in charts.PALETTE + (charts.PERSON,):
        assert _contrast(colour, charts.BACKGROUND) >= 4.5, colour
    for colour in (charts.VEHICLE, charts.CO_OFFENDED, charts.TRAVELLED_IN, charts.ROUTE):
        assert _contrast(colour, charts.BACKGROUND) >= 3.0, colour
    assert len(set(charts.PALETTE)) == len(charts.PALETTE)


# -- no NaT -----------------------------------------------------------------------------------------------------
def test_anx_has_no_nat_for_a_missing_date_of_birth(world):
    """A member with no date of birth anywhere gets no Dob attribute in the ANX (it read "NaT"); a member with
    one keeps it."""
    import xml.etree.ElementTree as ET

    with open_store(world["db"], read_only=True) as store:
        dob = store.sql("SELECT CAST(dob AS DATE) AS d FROM resolved_persons WHERE person_id = $p",
                        {"p": world["dated"]}).d.iloc[0]
    raw = (world["full"] / "associations.anx").read_bytes()          # UTF-16 XML, as i2 writes it
    tree = ET.fromstring(raw)
    assert not any("NaT" in (a.get("Value") or "") for a in tree.iter("Attribute"))

    def attributes_of(person_id):
        for item in tree.iter("ChartItem"):
            if any(e.get("Identity") == f"P:{person_id}" for e in item.iter("Entity")):
                return {a.get("AttributeClass"): a.get("Value") for a in item.iter("Attribute")}
        return None
    undated, dated = attributes_of(world["undated"]), attributes_of(world["dated"])
    assert undated is not None and dated is not None, "person entities not found in the ANX"
    assert "Dob" not in undated and undated.get("Id") == world["undated"]
    assert dated.get("Dob") == str(dob)[:10]
