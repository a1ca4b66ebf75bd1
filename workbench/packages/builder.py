"""Building a package folder: compute, version, write every format, read it back, write the manifest and the zip,
audit. A build either finishes whole (and audited) or leaves nothing new behind: it is written into a hidden
sibling folder and swapped in only on success, so the earlier package in the folder survives a failed build.

    result = build(store, "GR00001", out_dir, purpose="handover to the lead force")
    result["files"], result["version"], result["state"], result["manifest"]
"""
from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path

from workbench import exports
from workbench.errors import WorkbenchError
from workbench.packages import formats, manifest, sanitise, states
from workbench.packages.content import compute
from workbench.packages.settings import choose_sections
from workbench.store import utcnow

MANIFEST = "manifest.json"
ZIP_NAME = "package.zip"


def require_purpose(purpose: str | None, what: str = "build a package") -> str:
    text = exports.check_purpose(purpose)
    if not text:
        raise WorkbenchError(f"--purpose is required to {what}: say why (it is written to the audit log)")
    return text


def _check_folder(out_dir: Path) -> None:
    """`out_dir` is new, empty, or holds an earlier package (only the files its manifest names): nothing else is
    ever replaced."""
    out_dir = exports.check_folder(out_dir)
    if not out_dir.is_dir():
        return
    present = [p for p in out_dir.iterdir() if not p.name.startswith(".")]
    if not present:
        return
    old = out_dir / MANIFEST
    if not old.is_file():
        raise WorkbenchError(f"{out_dir}: the folder holds other files and no package manifest; give an empty or "
                             "new folder (a package folder is replaced only by a package)")
    try:
        listed = {f["name"] for f in json.loads(old.read_text(encoding="utf-8")).get("files", [])}
    except (ValueError, AttributeError):
        raise WorkbenchError(f"{old}: not a package manifest (not JSON); give an empty or new folder") from None
    strays = [p.name for p in present if p.name not in listed | {MANIFEST, ZIP_NAME}]
    if strays:
        raise WorkbenchError(f"{out_dir}: holds {strays[0]!r}, which the package manifest does not list; move it "
                             "or give another folder")


def recorded_sections(out_dir, subject_id: str) -> list[str] | None:
    """The sections the package already in `out_dir` holds, when it is a package of `subject_id` (a rebuild keeps
    the analyst's choice unless new sections are given), else None."""
    path = Path(out_dir) / MANIFEST
    if not path.is_file():
        return None
    try:
        meta = json.loads(path.read_text(encoding="utf-8")).get("package") or {}
    except ValueError:
        return None
    if str(meta.get("subject_id", "")).upper() != str(subject_id).strip().upper():
        return None
    return list(meta["sections"]) if isinstance(meta.get("sections"), list) else None


def _sibling(out_dir: Path, what: str) -> Path:
    """A hidden folder beside `out_dir` (same file system, so a rename moves it whole)."""
    return out_dir.with_name(f".{out_dir.name}.{what}-{os.getpid()}")


def build(store, subject_id: str, out_dir, *, purpose: str, lead_force: str | None = None,
          settings: dict | None = None, words: dict | None = None, sections=None, omit=None) -> dict:
    """Build the package of `subject_id` into `out_dir` (see the module docstring). `sections`/`omit`: the
    sections it holds (names, "all" or None for the settings' choice; see settings.choose_sections).

    The files are written into a hidden sibling folder, read back and checked there; only when all of them are
    written, clean and audited does that folder take the place of `out_dir` (a rename), so a build that fails
    (the redaction check refuses, a writer fails, the audit row cannot be written, Ctrl-C) leaves the earlier
    package in `out_dir` exactly as it was."""
    purpose = require_purpose(purpose)
    out_dir = Path(out_dir)
    _check_folder(out_dir)
    sections_from = "given"
    if sections is None and omit is None and "sections" not in (settings or {}):
        sections = recorded_sections(out_dir, subject_id)
        sections_from = "earlier package" if sections is not None else "settings"
    if sections is not None or omit is not None:
        settings = dict(settings or {}, sections=choose_sections(sections, omit))
    pkg = compute(store, subject_id, lead_force=lead_force, settings=settings, words=words)
    record = states.version_for(store, pkg.meta["subject_id"], pkg.content_sha256, pkg.meta["lead_force"])
    pkg.meta.update(version=int(record["version"]), state=record["state"],
                    document_date=str(record["first_built_at"])[:10], author=record["first_built_by"],
                    approved_by=record["approved_by"], approved_at=str(record["approved_at"] or "")[:16] or None,
                    reviewed_by=record["reviewed_by"])
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = _sibling(out_dir, "building")
    previous = _sibling(out_dir, "previous")
    for stale in (work, previous):
        shutil.rmtree(stale, ignore_errors=True)
    swapped = False
    try:
        work.mkdir()
        names, pdf = _write_all(pkg, store, work)
        # swap in: the earlier package steps aside (kept until the new one is audited), the new one takes its name
        if out_dir.exists():
            os.rename(out_dir, previous)
        os.rename(work, out_dir)
        swapped = True
        files = [out_dir / n for n in names]
        record_audit = exports.audit_export(store, "package-build", out_dir, {
            "subject_id": pkg.meta["subject_id"], "version": pkg.meta["version"], "state": pkg.meta["state"],
            "content_sha256": pkg.content_sha256, "lead_force": pkg.meta["lead_force"],
            "handling_code": pkg.meta["handling_code"], "redactions": pkg.redactions,
            "sections": pkg.meta["sections"], "forbidden_values_checked": len(pkg.forbidden)}, purpose, files=files)
    except BaseException:
        if swapped:           # the new package is in place but could not be audited: put the earlier one back
            shutil.rmtree(out_dir, ignore_errors=True)
        if previous.exists() and not out_dir.exists():    # also when the swap itself failed half way
            os.rename(previous, out_dir)
        shutil.rmtree(work, ignore_errors=True)
        raise
    shutil.rmtree(previous, ignore_errors=True)
    return {"out": str(out_dir), "files": [str(p) for p in files], "subject_id": pkg.meta["subject_id"],
            "version": pkg.meta["version"], "state": pkg.meta["state"], "content_sha256": pkg.content_sha256,
            "lead_force": pkg.meta["lead_force"], "copies": pkg.meta["copies"], "pdf_pages": pdf["pages"],
            "incidents": len(pkg.contents["incidents"]), "marking": record_audit["marking"],
            "sections": pkg.meta["sections"], "sections_from": sections_from, "redactions": pkg.redactions,
            "forbidden_values_checked": len(pkg.forbidden)}


def _write_all(pkg, store, folder: Path) -> tuple[list[str], dict]:
    """Every format into `folder`, read back (refusing on a withheld value), the manifest and the zip: the file
    names written, and the PDF's facts."""
    written: list[Path] = []
    html_path = folder / "package.html"
    page = formats.page_html(pkg)
    formats._atomic(html_path, page.encode("utf-8"))
    written.append(html_path)
    pdf_path = folder / "package.pdf"
    written.append(pdf_path)
    pdf = formats.write_pdf(pkg, pdf_path, page)
    images = formats.chart_images(pkg, folder)
    written += list(images.values())
    written.append(folder / "package.docx")
    formats.write_docx(pkg, folder / "package.docx", images)
    written += formats.write_annex(pkg, folder)
    if "associations" in pkg.meta["sections"]:
        written.append(folder / "associations.anx")
        formats.write_anx(pkg, folder / "associations.anx")
    hits = sanitise.check_outputs(written, pkg.forbidden)
    if hits:
        raise sanitise.refuse(hits, folder)
    doc = manifest.make(pkg, written, store, built_at=utcnow(), pdf_pages=pdf["pages"])
    man_path = folder / MANIFEST
    formats._atomic(man_path, (json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode())
    written.append(man_path)
    zip_path = folder / ZIP_NAME
    _zip(zip_path, list(written))
    written.append(zip_path)
    hits = sanitise.check_outputs([man_path], pkg.forbidden)   # the zip holds only files already read back
    if hits:
        raise sanitise.refuse(hits, folder)
    return [p.name for p in written], pdf


def _zip(path: Path, files: list[Path]) -> None:
    """Every output in one zip: sorted names, fixed times (same files, same zip)."""
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(files, key=lambda p: p.name):
            info = zipfile.ZipInfo(f.name, date_time=formats.ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, f.read_bytes())
    formats._atomic(path, buf.getvalue())
