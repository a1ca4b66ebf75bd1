"""Writing a Package (content.py) as files: self-contained HTML, PDF (weasyprint), DOCX (python-docx), the annex
tables as CSV and XLSX (through workbench.exports: formula-safe, marked) and the i2 ANX chart (workbench.linkage.anx).

Every file is reproducible: the same content gives the same bytes. Where a library stamps the time of writing
(python-docx's and openpyxl's document properties and zip entries, anxwritter's CreatedDate) the stamp is set to the
version's document date and zip entries are re-written with a fixed timestamp (`normalise_zip`).
"""
from __future__ import annotations

import base64
import io
import os
import re
import zipfile
from pathlib import Path

from workbench import config, exports, render
from workbench.packages import charts as _charts
from workbench.packages.charts import draw_png
from workbench.packages.content import WORDS_PLACEHOLDER, money

ZIP_TIME = (1980, 1, 1, 0, 0, 0)
PDF_TAGS = True
ANNEX_TABLES = ("incidents", "referrals", "crime-numbers", "source-rows", "evidence")


def figure_text(fig: dict) -> str:
    value = fig["value"]
    if fig["id"] == "value_gbp":
        return money(value)
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def page_html(pkg) -> str:
    """The package page (templates/package.html.j2 on the marked base page); every value escaped."""
    from workbench import __version__
    from workbench.store import latest_version

    colours = {k: getattr(_charts, k) for k in ("BACKGROUND", "ROUTE", "PERSON", "VEHICLE", "CO_OFFENDED",
                                                 "TRAVELLED_IN")}
    return render.render("package.html.j2", title=pkg.meta["title"], pkg=pkg, placeholder=WORDS_PLACEHOLDER,
                         colours=colours,
                         figure_text={k: figure_text(f) for k, f in pkg.figures.items()},
                         workbench_version=__version__, schema_version=latest_version())


def write_html(pkg, path: Path) -> Path:
    page = page_html(pkg)
    _atomic(path, page.encode("utf-8"))
    return path


def write_pdf(pkg, path: Path, page: str | None = None) -> dict:
    from weasyprint import HTML

    page = page or page_html(pkg)
    # tagged PDF: headings, tables and figures as structure, each chart with its /Alt text (the SVG's <title>)
    doc = HTML(string=page, base_url=str(path.parent)).render(pdf_tags=PDF_TAGS)
    buf = io.BytesIO()
    doc.write_pdf(buf, pdf_tags=PDF_TAGS)
    _atomic(path, buf.getvalue())
    return {"pages": len(doc.pages)}


def _atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def normalise_zip(path: Path, stamp: str | None = None) -> None:
    """Re-write a zip (DOCX, XLSX) with fixed entry times and, when given, the document properties' created and
    modified times set to `stamp` (ISO, e.g. 2026-12-01T00:00:00Z): same content, same bytes."""
    with zipfile.ZipFile(path) as zf:
        entries = [(info.filename, zf.read(info.filename)) for info in zf.infolist()]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in entries:
            if stamp and name == "docProps/core.xml":
                text = data.decode("utf-8")
                text = re.sub(r"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)", rf"\g<1>{stamp}\g<3>", text)
                data = text.encode("utf-8")
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            out.writestr(info, data)
    _atomic(path, buf.getvalue())


def _field(paragraph, instruction: str) -> None:
    """A Word field (PAGE, NUMPAGES) in a paragraph: python-docx has no API for fields."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, instruction), ("separate", None), (None, "1"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        elif text == instruction:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = f" {instruction} "
        else:
            el = OxmlElement("w:t")
            el.text = text
        run._r.append(el)


def write_docx(pkg, path: Path, images: dict[str, Path]) -> Path:
    """An editable Word document: the marking in every page's header and footer (with DRAFT until approved, and
    version, author, date, page x of y), the sections with their words, figures and tables, the two charts."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt, RGBColor

    marking = config.security_marking()
    meta = pkg.meta
    document = docx.Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(16)
    header = section.header.paragraphs[0]
    header.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = header.add_run(marking)
    run.bold = True
    run.font.color.rgb = RGBColor(0xB0, 0x00, 0x20)
    if meta["state"] != "approved":
        draft = section.header.add_paragraph()
        draft.alignment = WD_ALIGN_PARAGRAPH.CENTER
        r = draft.add_run("DRAFT")
        r.bold = True
        r.font.size = Pt(20)
        r.font.color.rgb = RGBColor(0xB0, 0x00, 0x20)
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = footer.add_run(marking)
    run.bold = True
    run.font.color.rgb = RGBColor(0xB0, 0x00, 0x20)
    line = section.footer.add_paragraph()
    line.alignment = WD_ALIGN_PARAGRAPH.CENTER
    line.add_run(f"{meta['subject_id']} version {meta['version']} ({meta['state']}) - {meta['author']} - "
                 f"{meta['document_date']} - page ")
    _field(line, "PAGE")
    line.add_run(" of ")
    _field(line, "NUMPAGES")

    document.add_heading(meta["title"], level=0)
    facts = [("Subject", f"{meta['kind']} {meta['subject_id']}: {meta['label']}"),
             ("To (lead force)", f"{meta['lead_force']} {meta['lead_force_name']} ({meta['lead_chosen_by']})"),
             ("Copies", "; ".join(f"{c} {n}" for c, n in zip(meta["copies"], meta["copies_names"])) or "none"),
             ("Period", f"{meta['period']}; data as of {meta['data_as_of']}"),
             ("Version", f"{meta['version']} ({meta['state']}), {meta['author']}, {meta['document_date']}"),
             ("Marking", marking), ("Handling", pkg.section("summary")["paragraphs"][1])]
    table = document.add_table(rows=0, cols=2)
    for label, value in facts:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = label, value
    for n, sec in enumerate(pkg.sections, start=1):
        document.add_heading(f"{n}. {sec['title']}", level=1)
        if sec["words"]:
            w = pkg.words.get(sec["words"])
            if w:
                for part in str(w["body_shown"]).split("\n"):
                    document.add_paragraph(part)
                document.add_paragraph(f"Analyst's text, version {w['version']} by {w['author']}, saved "
                                       f"{w['saved_at']}.").runs[0].italic = True
            else:
                document.add_paragraph(WORDS_PLACEHOLDER)
        for i, p in enumerate(sec["paragraphs"]):
            if not (sec["key"] == "summary" and i == 1):
                document.add_paragraph(p)
        for fid in sec["figures"]:
            f = pkg.figures[fid]
            document.add_paragraph(f"{f['label']}: {figure_text(f)} [{f['query']}; {f['annex']}]",
                                   style="List Bullet")
        if sec["chart"] in images:
            document.add_picture(str(images[sec["chart"]]), width=Mm(170))
            _describe_last_picture(document, pkg.charts[sec["chart"]]["alt"], f"chart-{sec['chart']}")
            caption = document.add_paragraph(pkg.charts[sec["chart"]]["alt"])
            caption.runs[0].font.size = Pt(7.5)
        for t in sec["tables"]:
            document.add_heading(t["title"], level=2)
            grid = document.add_table(rows=1, cols=len(t["columns"]))
            grid.style = "Table Grid"
            for cell, label in zip(grid.rows[0].cells, t["columns"]):
                cell.text = label
            for row in t["rows"]:
                cells = grid.add_row().cells
                for cell, value in zip(cells, row):
                    cell.text = str(value)
            params = ", ".join(f"{k}={v}" for k, v in t["source"]["params"].items())
            note = document.add_paragraph(f"Source: query {t['source']['query']} ({params}); rows: "
                                          f"{t['source']['annex']}." + (f" {t['note']}" if t.get("note") else ""))
            note.runs[0].font.size = Pt(7)
    props = document.core_properties
    props.title = meta["title"][:250]
    props.author = meta["author"]
    props.last_modified_by = meta["author"]
    props.keywords = marking
    props.category = marking
    props.subject = f"{meta['subject_id']} version {meta['version']}"
    props.revision = int(meta["version"])
    props.comments = f"{marking}. Pegasus Workbench intelligence package."
    from datetime import datetime

    stamp = datetime.fromisoformat(meta["document_date"])
    props.created = stamp
    props.modified = stamp
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    document.save(str(tmp))
    os.replace(tmp, path)
    normalise_zip(path, stamp.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return path


def _describe_last_picture(document, alt: str, name: str) -> None:
    """The text alternative of the picture just added: wp:docPr's descr (Word's "Alt Text") and title."""
    from docx.oxml.ns import qn

    pictures = document.element.body.findall(".//" + qn("wp:docPr"))
    pictures[-1].set("descr", alt)
    pictures[-1].set("title", name)
    pictures[-1].set("name", name)


def write_annex(pkg, out_dir: Path) -> list[Path]:
    """annex-<table>.csv and .xlsx for every annex table (formula-safe, marked, through workbench.exports)."""
    written = []
    stamp = f"{pkg.meta['document_date']}T00:00:00Z"
    for name in ANNEX_TABLES:
        frame = pkg.annex[name]
        for suffix in (".csv", ".xlsx"):
            path = out_dir / f"annex-{name}{suffix}"
            exports.write_table(frame, path, sheet=name[:31])
            if suffix == ".xlsx":
                normalise_zip(path, stamp)
            written.append(path)
    return written


def write_anx(pkg, path: Path) -> Path:
    """The association chart as i2 ANX (workbench.linkage.anx's chart), dated with the document date."""
    from anxwritter import ANXValidationError

    from workbench.errors import WorkbenchError
    from workbench.linkage.anx import build_chart

    chart = build_chart(pkg.network, title=f"{pkg.meta['title']} v{pkg.meta['version']}")
    chart.settings.summary.created = f"{pkg.meta['document_date']}T00:00:00"
    chart.settings.summary.author = pkg.meta["author"]
    try:
        chart.to_anx(str(path))
    except ANXValidationError as exc:
        raise WorkbenchError(f"{path}: the ANX chart did not validate: {str(exc).splitlines()[0][:300]}") from None
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)
    return path


def chart_images(pkg, out_dir: Path) -> dict[str, Path]:
    """PNG copies of the map and the association chart (for the DOCX, which cannot hold SVG)."""
    images = {}
    for key in ("map", "links"):
        if key not in pkg.charts:       # its section was left out
            continue
        path = out_dir / f"chart-{key}.png"
        draw_png(pkg.charts[key], key, path)
        images[key] = path
    return images


def inline_png(path: Path) -> str:
    return base64.b64encode(Path(path).read_bytes()).decode()
