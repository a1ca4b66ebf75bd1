"""Building a package folder: compute, version, write every format, read it back, write the manifest and the zip,
audit. A build either finishes whole (and audited) or leaves nothing new behind.

    result = build(store, "GR00001", out_dir, purpose="handover to the lead force")
    result["files"], result["version"], result["state"], result["manifest"]
"""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

from workbench import exports
from workbench.errors import WorkbenchError
from workbench.packages import formats, manifest, sanitise, states
from workbench.packages.content import compute
from workbench.store import utcnow

MANIFEST = "manifest.json"
ZIP_NAME = "package.zip"


def require_purpose(purpose: str | None, what: str = "build a package") -> str:
    text = exports.check_purpose(purpose)
    if not text:
        raise WorkbenchError(f"--purpose is required to {what}: say why (it is written to the audit log)")
    return text


def _prepare_folder(out_dir: Path) -> None:
    """An empty folder, or one holding an earlier package (its files, named by its manifest, are replaced)."""
    out_dir = exports.check_folder(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
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
    exports.discard(present)


def build(store, subject_id: str, out_dir, *, purpose: str, lead_force: str | None = None,
          settings: dict | None = None, words: dict | None = None) -> dict:
    """Build the package of `subject_id` into `out_dir` (see the module docstring)."""
    purpose = require_purpose(purpose)
    out_dir = Path(out_dir)
    pkg = compute(store, subject_id, lead_force=lead_force, settings=settings, words=words)
    record = states.version_for(store, pkg.meta["subject_id"], pkg.content_sha256, pkg.meta["lead_force"])
    pkg.meta.update(version=int(record["version"]), state=record["state"],
                    document_date=str(record["first_built_at"])[:10], author=record["first_built_by"],
                    approved_by=record["approved_by"], approved_at=str(record["approved_at"] or "")[:16] or None,
                    reviewed_by=record["reviewed_by"])
    _prepare_folder(out_dir)
    written: list[Path] = []
    try:
        html_path = out_dir / "package.html"
        page = formats.page_html(pkg)
        formats._atomic(html_path, page.encode("utf-8"))
        written.append(html_path)
        pdf_path = out_dir / "package.pdf"
        written.append(pdf_path)
        pdf = formats.write_pdf(pkg, pdf_path, page)
        images = formats.chart_images(pkg, out_dir)
        written += list(images.values())
        written.append(out_dir / "package.docx")
        formats.write_docx(pkg, out_dir / "package.docx", images)
        written += formats.write_annex(pkg, out_dir)
        written.append(out_dir / "associations.anx")
        formats.write_anx(pkg, out_dir / "associations.anx")
        hits = sanitise.check_outputs(written, pkg.forbidden)
        if hits:
            raise sanitise.refuse(hits)
        doc = manifest.make(pkg, written, store, built_at=utcnow(), pdf_pages=pdf["pages"])
        man_path = out_dir / MANIFEST
        formats._atomic(man_path, (json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode())
        written.append(man_path)
        zip_path = out_dir / ZIP_NAME
        written.append(zip_path)
        _zip(zip_path, [p for p in written if p != zip_path])
        hits = sanitise.check_outputs([man_path], pkg.forbidden)   # the zip holds only files already read back
        if hits:
            raise sanitise.refuse(hits)
        record_audit = exports.audit_export(store, "package-build", out_dir, {
            "subject_id": pkg.meta["subject_id"], "version": pkg.meta["version"], "state": pkg.meta["state"],
            "content_sha256": pkg.content_sha256, "lead_force": pkg.meta["lead_force"],
            "handling_code": pkg.meta["handling_code"], "redactions": pkg.redactions,
            "forbidden_values_checked": len(pkg.forbidden)}, purpose, files=written)
    except BaseException:
        exports.discard(written)
        raise
    return {"out": str(out_dir), "files": [str(p) for p in written], "subject_id": pkg.meta["subject_id"],
            "version": pkg.meta["version"], "state": pkg.meta["state"], "content_sha256": pkg.content_sha256,
            "lead_force": pkg.meta["lead_force"], "copies": pkg.meta["copies"], "pdf_pages": pdf["pages"],
            "incidents": len(pkg.contents["incidents"]), "marking": record_audit["marking"],
            "redactions": pkg.redactions, "forbidden_values_checked": len(pkg.forbidden)}


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
