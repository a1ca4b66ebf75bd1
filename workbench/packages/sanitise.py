"""Sanitisation before dissemination, and the read-back redaction check after writing.

Two layers, because one is not enough:

1. **Never selected.** The fields configured as withheld (`sanitise.withheld_fields` in packages.yaml: the sources'
   own references, the referrer, free-text narratives and exhibit descriptions) are left out of the queries in
   queries/packages/, and the association network's source references are cut down to "source row N". The
   configured `forbidden_terms` (staff names, operation names ...) are replaced by the placeholder wherever they
   occur in computed text (`apply`).
2. **Read back.** After every file is written, `check_outputs` reads each one back the way a recipient would
   (HTML text, the PDF's text layer, the DOCX's runs in body, tables, headers and footers, every XLSX cell, CSV
   text, the ANX XML) and searches it for every forbidden value: the package's source references and
   narratives (from queries/packages/forbidden_values.sql) and the forbidden terms. Any hit fails the build
   (the caller deletes the outputs). Values are compared case-folded with all whitespace removed, so a
   reference wrapped across two lines of a PDF table cell is still found.
"""
from __future__ import annotations

import html
import json
import re
import zipfile
from pathlib import Path

import pandas as pd

from workbench.errors import WorkbenchError

_NETWORK_REF = re.compile(r"([A-Za-z0-9_]+):[^;]*? row (\d+)")
WITHHELD_ATTRS = ("narrative", "description", "source_ref", "referrer")
MIN_SEARCH_CHARS = 6
_SPACE = re.compile(r"\s+")


def squash(text: str) -> str:
    return _SPACE.sub("", str(text)).casefold()


def _searchable(value: str) -> bool:
    """A value long and distinctive enough to search for without matching innocent text (short or all-digit
    references are withheld from rendering by the queries, but cannot be searched for reliably)."""
    s = squash(value)
    return len(s) >= MIN_SEARCH_CHARS and not (s.isdigit() and len(s) < 8)


def _redactor(terms: list[str], placeholder: str):
    if not terms:
        return lambda value: (value, 0)
    pattern = re.compile("|".join(re.escape(t.strip()) for t in sorted(terms, key=len, reverse=True)), re.IGNORECASE)

    def redact(value):
        if not isinstance(value, str):
            return value, 0
        out, count = pattern.subn(placeholder, value)
        return out, count
    return redact


def apply(pkg, forbidden: pd.DataFrame, cfg: dict) -> None:
    """Redact the configured forbidden terms from every computed text of `pkg`, cut the network's source
    references down, and record the values the read-back check must not find (pkg.forbidden)."""
    san = cfg.get("sanitise") or {}
    terms = [t for t in (san.get("forbidden_terms") or []) if str(t).strip()]
    placeholder = str(san.get("placeholder") or "[withheld]")
    redact = _redactor(terms, placeholder)
    total = 0

    def fix(value):
        nonlocal total
        out, count = redact(value)
        total += count
        return out

    for sec in pkg.sections:
        sec["paragraphs"] = [fix(p) for p in sec["paragraphs"]]
        for table in sec["tables"]:
            table["rows"] = [[fix(v) for v in row] for row in table["rows"]]
    for key in ("label", "title"):
        pkg.meta[key] = fix(pkg.meta[key])
    for name, frame in pkg.annex.items():
        frame = frame.copy()
        for col in frame.columns:
            if frame[col].dtype == object:
                frame[col] = frame[col].map(fix)
        pkg.annex[name] = frame
    for section, record in (pkg.words or {}).items():
        if record and record.get("body"):
            record["body_shown"] = fix(record["body"])

    for chart in pkg.charts.values():
        if chart.get("alt"):
            chart["alt"] = fix(chart["alt"])
        for item in chart.get("points", []) + chart.get("legend", []) + ([chart["home"]] if chart.get("home") else []):
            for key in ("title", "label"):
                if key in item:
                    item[key] = fix(item[key])
    nodes, edges = pkg.network.nodes.copy(), pkg.network.edges.copy()
    for frame in (nodes, edges):
        frame["source_ref"] = frame["source_ref"].map(
            lambda v: _NETWORK_REF.sub(r"\1 row \2", v) if isinstance(v, str) else v)
    nodes["label"] = nodes["label"].map(fix)

    def clean_attrs(value):
        if not isinstance(value, str) or not value:
            return value
        try:
            attrs = json.loads(value)
        except ValueError:
            return fix(value)
        attrs = {k: v for k, v in attrs.items() if k not in WITHHELD_ATTRS}
        return fix(json.dumps(attrs, ensure_ascii=False, sort_keys=True, default=str))
    nodes["attrs"] = nodes["attrs"].map(clean_attrs)
    pkg.network = type(pkg.network)(nodes, edges)
    pkg.redactions = total

    min_chars = int(san.get("narrative_min_chars", 20))
    values = []
    for row in forbidden.itertuples():
        text = str(row.value)
        if row.kind == "narrative" and len(text.strip()) < min_chars:
            continue
        if _searchable(text):
            values.append({"kind": row.kind, "value": text,
                           "where": f"referral {int(row.referral_id)}" if row.kind == "source_ref" and
                           not pd.isna(row.referral_id) else f"incident {int(row.incident_id)}"})
    values += [{"kind": "forbidden_term", "value": t, "where": "packages.yaml sanitise.forbidden_terms"}
               for t in terms]
    pkg.forbidden = values


# -- reading outputs back ----------------------------------------------------------------------------------
def read_back(path: str | Path) -> str:
    """The text a recipient can see in one output file (every layer the format has)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        raw = path.read_text(encoding="utf-8")
        return html.unescape(raw) + "\n" + html.unescape(re.sub(r"<[^>]+>", " ", raw))
    if suffix == ".pdf":
        from pypdf import PdfReader

        reader = PdfReader(str(path))
        parts = [page.extract_text() or "" for page in reader.pages]
        meta = reader.metadata or {}
        parts += [str(v) for v in meta.values()]
        return "\n".join(parts)
    if suffix == ".docx":
        return "\n".join(docx_texts(path))
    if suffix == ".xlsx":
        import openpyxl

        book = openpyxl.load_workbook(str(path), read_only=True)
        parts = []
        try:
            for ws in book.worksheets:
                for row in ws.iter_rows(values_only=True):
                    parts += [str(v) for v in row if v is not None]
        finally:
            book.close()
        with zipfile.ZipFile(path) as zf:      # headers, footers and document properties live in the XML
            parts += [html.unescape(re.sub(r"<[^>]+>", " ", zf.read(n).decode("utf-8", "replace")))
                      for n in zf.namelist() if n.startswith(("docProps/", "xl/worksheets/")) and n.endswith(".xml")
                      and "sheet" not in n.rsplit("/", 1)[-1]]
        return "\n".join(parts)
    if suffix == ".anx":
        data = path.read_bytes()
        text = data.decode("utf-16") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else data.decode("utf-8", "replace")
        return html.unescape(text)
    if suffix == ".png":
        return ""    # no text layer: chart labels are drawn from the sanitised content
    if suffix == ".zip":
        with zipfile.ZipFile(path) as zf:
            return "\n".join(zf.read(n).decode("utf-8", "replace") for n in zf.namelist()
                             if n.endswith((".json", ".csv", ".html")))
    if suffix in (".csv", ".tsv"):    # cells as a spreadsheet shows them (quotes inside a cell are doubled on disk)
        import csv

        with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
            rows = csv.reader(fh, delimiter="\t" if suffix == ".tsv" else ",")
            return "\n".join("\t".join(row) for row in rows)
    return path.read_text(encoding="utf-8-sig", errors="replace")


def docx_texts(path: str | Path) -> list[str]:
    """Every run of a DOCX: body paragraphs, table cells, and each section's headers and footers."""
    import docx

    document = docx.Document(str(path))
    out = []

    def paragraphs(container):
        for p in container.paragraphs:
            out.append("".join(r.text for r in p.runs) or p.text)
        for table in getattr(container, "tables", []):
            for row in table.rows:
                for cell in row.cells:
                    paragraphs(cell)
    paragraphs(document)
    for section in document.sections:
        for part in (section.header, section.footer, section.first_page_header, section.first_page_footer):
            paragraphs(part)
            # fields (PAGE, NUMPAGES) and text boxes live in XML python-docx does not model: read their text too
            out.append("".join(t.text or "" for t in part._element.iter() if t.tag.endswith("}t")))
    return out


PREFIX = 4


def find_all(text: str, needles) -> set[str]:
    """The needles that occur in text, in one pass per distinct prefix: every place a needle's first PREFIX
    characters occur is checked against the needles of each length starting there (a set lookup), instead of
    scanning the whole text once per needle (thousands of references x megabytes of ANX)."""
    groups: dict[str, dict[int, set[str]]] = {}
    found = set()
    for needle in set(needles):
        if len(needle) < PREFIX:
            if needle in text:
                found.add(needle)
            continue
        groups.setdefault(needle[:PREFIX], {}).setdefault(len(needle), set()).add(needle)
    for prefix, by_length in groups.items():
        i = text.find(prefix)
        while i != -1:
            for length, wanted in by_length.items():
                piece = text[i:i + length]
                if piece in wanted:
                    found.add(piece)
            i = text.find(prefix, i + 1)
    return found


def check_outputs(files, forbidden: list[dict]) -> list[dict]:
    """Every forbidden value found in any of `files` read back: [{file, kind, where}] (empty when clean)."""
    hits = []
    needles = [(squash(f["value"]), f) for f in forbidden if squash(f["value"])]
    for path in files:
        found = find_all(squash(read_back(path)), [n for n, _ in needles])
        for needle, item in needles:
            if needle in found:
                hits.append({"file": str(path), "kind": item["kind"], "where": item["where"]})
    return hits


def refuse(hits: list[dict], folder: str | Path | None = None) -> WorkbenchError:
    first = hits[0]
    more = f" (and {len(hits) - 1} more)" if len(hits) > 1 else ""
    name = Path(first["file"]).name if folder is not None else first["file"]
    return WorkbenchError(f"{name}: redaction check failed: a withheld {first['kind']} ({first['where']}) "
                          f"appears in the output{more}; the new outputs were deleted and any earlier package in "
                          "the folder is unchanged")
