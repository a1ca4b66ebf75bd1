"""The package manifest, and what it makes possible: verify a folder against the store, and diff two handovers.

manifest.json holds the SHA-256 and size of every output, the ingest batches read, the queries run and their
parameters, every figure (value, query, parameters, annex rows it counts), the annex tables' digests, the analyst's
words versions used, the contents (incident, subject, vehicle, force and crime-number ids) for `diff`, the
workbench and schema versions, and ONE field that changes from build to build: `built_at` (BUILD_TIME_FIELD).
Everything else, and every other file, is the same byte for byte when the same store is built again.
"""
from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

from workbench import __version__, exports
from workbench.errors import WorkbenchError
from workbench.packages.content import frame_digest

BUILD_TIME_FIELD = "built_at"
MANIFEST = "manifest.json"
FORMAT = "pegasus-package/1"


def make(pkg, files, store, *, built_at, pdf_pages: int) -> dict:
    from workbench.store import latest_version

    outputs = []
    for f in sorted(files, key=lambda p: Path(p).name):
        sha, size = exports.file_digest(f)
        outputs.append({"name": Path(f).name, "sha256": sha, "bytes": size})
    batches = pkg.batches.astype(object).where(pkg.batches.notna(), None).to_dict(orient="records")
    return {
        "format": FORMAT,
        BUILD_TIME_FIELD: built_at.isoformat(sep=" ", timespec="seconds"),
        "package": {k: pkg.meta[k] for k in ("subject_id", "kind", "label", "title", "version", "state", "author",
                                              "document_date", "lead_force", "lead_chosen_by", "copies", "marking",
                                              "handling_code", "handling_conditions", "data_as_of", "period",
                                              "sections", "sections_omitted")},
        "content_sha256": pkg.content_sha256,
        "files": outputs,
        "pdf_pages": pdf_pages,
        "batches_read": [{"batch_id": int(b["batch_id"]), "source_name": b["source_name"], "file_name": b["file_name"],
                          "file_sha256": b["file_sha256"]} for b in batches],
        "queries": pkg.queries,
        "figures": pkg.figures,
        "annex": {name: {"rows": int(len(frame)), "sha256": frame_digest(frame)} for name, frame in
                  sorted(pkg.annex.items())},
        "words": {k: ({"version": v["version"], "sha256": v["sha256"], "author": v["author"]} if v else None)
                  for k, v in sorted(pkg.words.items())},
        "contents": pkg.contents,
        "settings": settings_record(pkg.settings),
        "sanitisation": {"redactions": pkg.redactions, "forbidden_values_checked": len(pkg.forbidden),
                         "outputs_read_back": [o["name"] for o in outputs]},
        "workbench_version": __version__,
        "schema_version": latest_version(),
    }


def _term_digest(term: str) -> str:
    return "sha256:" + hashlib.sha256(term.strip().casefold().encode("utf-8")).hexdigest()


def settings_record(settings: dict) -> dict:
    """The settings a package was built with, forbidden terms as digests (the manifest must not name them)."""
    record = copy.deepcopy(settings)
    san = record.setdefault("sanitise", {})
    san["forbidden_terms"] = [_term_digest(t) for t in san.get("forbidden_terms") or []]
    return record


def settings_for_verify(record: dict | None) -> tuple[dict | None, str | None]:
    """The settings to recompute with: the recorded ones, with the forbidden terms of the current configuration
    when their digests match (else a problem line: the terms changed, so the redactions would differ)."""
    from workbench.packages.settings import package_settings

    if not record:
        return None, None
    settings = copy.deepcopy(record)
    wanted = (record.get("sanitise") or {}).get("forbidden_terms") or []
    current = package_settings()["sanitise"].get("forbidden_terms") or []
    if sorted(wanted) != sorted(_term_digest(t) for t in current):
        return None, ("settings: the configured forbidden terms differ from those the package was built with; "
                      "the redactions cannot be recomputed")
    settings["sanitise"]["forbidden_terms"] = current
    return settings, None


def load(folder) -> dict:
    folder = Path(folder)
    path = folder / MANIFEST if folder.is_dir() else folder
    if not path.is_file():
        raise WorkbenchError(f"{folder}: no {MANIFEST} (not a package folder)")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise WorkbenchError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise WorkbenchError(f"{path}: not a package manifest (format is not {FORMAT})")
    return doc


def verify(store, folder) -> dict:
    """Check a package folder: every output's SHA-256 against its manifest, then every figure and annex table
    recomputed from the store with the same subject, lead force and analyst's words versions. Returns {ok,
    problems: [one line each], figures_checked, files_checked}."""
    from workbench.packages import states
    from workbench.packages.content import compute

    folder = Path(folder)
    doc = load(folder)
    problems = []
    for f in doc["files"]:
        path = folder / f["name"]
        if not path.is_file():
            problems.append(f"{f['name']}: missing")
            continue
        sha, _size = exports.file_digest(path)
        if sha != f["sha256"]:
            problems.append(f"{f['name']}: changed since it was built (sha256 {sha[:12]}..., manifest "
                            f"{f['sha256'][:12]}...)")
    meta = doc["package"]
    lead = meta["lead_force"] if meta.get("lead_chosen_by") == "analyst" else None
    versions = {k: (v or {}).get("version") for k, v in doc["words"].items()}
    settings, problem = settings_for_verify(doc.get("settings"))
    if problem:
        problems.append(problem)
        return {"ok": False, "problems": problems, "figures_checked": 0, "files_checked": len(doc["files"])}
    try:
        pkg = compute(store, meta["subject_id"], lead_force=lead, settings=settings,
                      words=states.words_at(store, meta["subject_id"], versions))
    except WorkbenchError as exc:
        problems.append(f"cannot recompute the package from this store: {exc}")
        return {"ok": False, "problems": problems, "figures_checked": 0, "files_checked": len(doc["files"])}
    for fid, fig in doc["figures"].items():
        now = pkg.figures.get(fid)
        if now is None:
            problems.append(f"figure {fid} ({fig['label']}): no longer computed")
        elif now["value"] != fig["value"]:
            problems.append(f"figure {fid} ({fig['label']}): package says {fig['value']}, the store now gives "
                            f"{now['value']} (query {fig['query']})")
    for name, table in doc["annex"].items():
        frame = pkg.annex.get(name)
        if frame is None:
            problems.append(f"annex {name}: no longer computed")
        elif frame_digest(frame) != table["sha256"]:
            problems.append(f"annex {name}: {table['rows']} rows in the package, {len(frame)} rows from the store now, "
                            "contents differ")
    if meta.get("sections") is not None and meta["sections"] != pkg.meta["sections"]:
        problems.append(f"sections: the package holds {', '.join(meta['sections'])}; recomputed with its settings "
                        f"it would hold {', '.join(pkg.meta['sections'])}")
    if meta.get("lead_force") != pkg.meta["lead_force"]:
        problems.append(f"lead force: package says {meta.get('lead_force')}, the store now recommends "
                        f"{pkg.meta['lead_force']}")
    if not problems and pkg.content_sha256 != doc["content_sha256"]:
        where = _section_differences(folder, pkg)
        problems.append("content: the figures and annex agree but " + (where or "another part of the content differs")
                        + f" (content sha256 {pkg.content_sha256[:12]}..., manifest {doc['content_sha256'][:12]}...)")
    return {"ok": not problems, "problems": problems, "figures_checked": len(doc["figures"]),
            "files_checked": len(doc["files"]), "subject_id": meta["subject_id"], "version": meta["version"]}


def _section_differences(folder: Path, pkg) -> str | None:
    """Which section's text or table differs, read from the package's own HTML (the content as published)."""
    page = (folder / "package.html")
    if not page.is_file():
        return None
    published = page.read_text(encoding="utf-8")
    for sec in pkg.sections:
        for text in sec["paragraphs"]:
            if _html_text(text) not in published:
                return f"section {sec['title']!r} now reads differently: {text[:120]!r}"
        for table in sec["tables"]:
            for row in table["rows"][:50]:
                if all(_html_text(v) in published for v in row):
                    continue
                return f"table {table['title']!r} of section {sec['title']!r} differs (row {row[:4]})"
    return None


def _html_text(value) -> str:
    from markupsafe import escape

    return str(escape(str(value)))


def diff(old, new) -> dict:
    """What is new (and gone) in package NEW since OLD: incidents, subjects, vehicles, forces, crime numbers, and
    the figures that changed."""
    a, b = load(old), load(new)
    if a["package"]["subject_id"] != b["package"]["subject_id"]:
        raise WorkbenchError(f"the packages are of different subjects ({a['package']['subject_id']} and "
                             f"{b['package']['subject_id']}): nothing to compare")
    out = {"subject_id": b["package"]["subject_id"], "old_version": a["package"]["version"],
           "new_version": b["package"]["version"]}
    for key in ("incidents", "subjects", "vehicles", "forces", "crime_numbers"):
        was, now = set(map(str, a["contents"].get(key, []))), set(map(str, b["contents"].get(key, [])))
        out[key] = {"new": sorted(now - was), "gone": sorted(was - now)}
    out["figures"] = [{"id": k, "label": f["label"], "old": a["figures"].get(k, {}).get("value"), "new": f["value"]}
                      for k, f in b["figures"].items() if a["figures"].get(k, {}).get("value") != f["value"]]
    return out
