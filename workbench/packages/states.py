"""What the store keeps about packages (migration 10): the analyst's words with every version, each distinct content
built for a subject (its version number and state: draft, reviewed, approved; who and when) and the dissemination
log. Every change is written with its audit row in one transaction.

A version is a content: the first build of a content (its content_sha256) gives it the subject's next version
number; rebuilding the same content from the same store gives the same version and, once it is approved, the
package without its DRAFT watermark. Changing the analyst's words or the data makes a new content, hence a new
draft version that must be reviewed and approved in its turn.
"""
from __future__ import annotations

import hashlib

import pandas as pd

from workbench import exports
from workbench.errors import WorkbenchError
from workbench.packages.settings import WORDS_SECTIONS
from workbench.store import os_user, utcnow

STATES = ("draft", "reviewed", "approved")
WORDS_MAX_CHARS = 20000


def _check_section(section: str) -> str:
    text = str(section or "").strip().lower()
    if text not in WORDS_SECTIONS:
        raise WorkbenchError(f"section {str(section)[:30]!r} is not one of the analyst's sections: "
                             f"{', '.join(WORDS_SECTIONS)}")
    return text


def save_words(store, subject_id: str, section: str, body: str) -> dict:
    """Save a new version of one section of the analyst's text for a subject (nothing is overwritten)."""
    from workbench.crossborder import check_id

    sid, _kind = check_id(subject_id)
    section = _check_section(section)
    body = str(body or "").replace("\r\n", "\n").strip()
    if not body:
        raise WorkbenchError(f"the {section} text is empty: write something or leave the section as it is")
    if len(body) > WORDS_MAX_CHARS:
        raise WorkbenchError(f"the {section} text is {len(body):,} characters; keep it under {WORDS_MAX_CHARS:,}")
    sha = hashlib.sha256(body.encode("utf-8")).hexdigest()
    latest = latest_words(store, sid).get(section)
    if latest and latest["sha256"] == sha:
        return dict(latest, unchanged=True)
    with store.writing():
        store.con.execute("BEGIN TRANSACTION")
        try:
            version = int(store.query("packages/words_insert", subject_id=sid, section=section, body=body, sha256=sha,
                                      author=os_user(), saved_at=utcnow()).version.iloc[0])
            store.audit("package-words", sid, {"section": section, "version": version, "sha256": sha,
                                               "chars": len(body)})
            store.con.execute("COMMIT")
        except BaseException:
            store.con.execute("ROLLBACK")
            raise
    return dict(latest_words(store, sid)[section], unchanged=False)


def _records(frame: pd.DataFrame) -> list[dict]:
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")


def latest_words(store, subject_id: str) -> dict:
    """{section: {section, version, body, sha256, author, saved_at} or None} for every analyst's section."""
    rows = {r["section"]: r for r in _records(store.query("packages/words_latest", subject_id=subject_id))}
    out = {}
    for section in WORDS_SECTIONS:
        r = rows.get(section)
        if r is not None:
            r = dict(r, saved_at=str(r["saved_at"]))
        out[section] = r
    return out


def words_at(store, subject_id: str, versions: dict) -> dict:
    """The words with the given versions ({section: version or None}): what a recorded package used."""
    history = store.query("packages/words_history", subject_id=subject_id)
    out = {}
    for section in WORDS_SECTIONS:
        v = versions.get(section)
        if v is None:
            out[section] = None
            continue
        row = history[(history.section == section) & (history.version == int(v))]
        if row.empty:
            raise WorkbenchError(f"{subject_id}: version {v} of the {section} text is not in this store")
        r = _records(row)[0]
        out[section] = dict(r, saved_at=str(r["saved_at"]))
    return out


def words_history(store, subject_id: str) -> pd.DataFrame:
    return store.query("packages/words_history", subject_id=subject_id)


def versions(store, subject_id: str = "") -> pd.DataFrame:
    return store.query("packages/versions", subject_id=subject_id)


def version_for(store, subject_id: str, content_sha256: str, lead_force: str | None) -> dict:
    """The version record of this content, recording it as the subject's next draft version when first built."""
    rows = versions(store, subject_id)
    hit = rows[rows.content_sha256 == content_sha256]
    if hit.empty:
        with store.writing():
            store.con.execute("BEGIN TRANSACTION")
            try:
                v = int(store.query("packages/version_insert", subject_id=subject_id, content_sha256=content_sha256,
                                    lead_force=lead_force, built_at=utcnow(), built_by=os_user()).version.iloc[0])
                store.audit("package-version", subject_id, {"version": v, "content_sha256": content_sha256,
                                                            "state": "draft"})
                store.con.execute("COMMIT")
            except BaseException:
                store.con.execute("ROLLBACK")
                raise
        rows = versions(store, subject_id)
        hit = rows[rows.content_sha256 == content_sha256]
    return _records(hit)[0]


def _one_version(store, subject_id: str, version: int | None) -> dict:
    rows = versions(store, subject_id)
    if rows.empty:
        raise WorkbenchError(f"no package has been built for {subject_id} (see `workbench package build`)")
    if version is None:
        return _records(rows.head(1))[0]
    hit = rows[rows.version == int(version)]
    if hit.empty:
        raise WorkbenchError(f"{subject_id} has no package version {version} (versions 1 to {int(rows.version.max())})")
    return _records(hit)[0]


def set_state(store, subject_id: str, state: str, version: int | None = None, purpose: str | None = None) -> dict:
    """Move a version (default: the latest) to reviewed or approved; approval needs a review by someone first
    (the same account may do both on a single-analyst desk: the audit log shows it)."""
    from workbench.crossborder import check_id

    sid, _ = check_id(subject_id)
    if state not in ("reviewed", "approved"):
        raise WorkbenchError(f"state {state!r}: a package is moved to reviewed or approved")
    purpose = exports.check_purpose(purpose)
    record = _one_version(store, sid, version)
    if state == "approved" and record["state"] == "draft":
        raise WorkbenchError(f"{sid} version {record['version']} is a draft: review it first "
                             "(`workbench package review`)")
    if record["state"] == state or (state == "reviewed" and record["state"] == "approved"):
        return record      # already there (an approved version stays approved)
    with store.writing():
        store.con.execute("BEGIN TRANSACTION")
        try:
            name = "packages/version_review" if state == "reviewed" else "packages/version_approve"
            store.query(name, subject_id=sid, version=int(record["version"]), who=os_user(), at=utcnow())
            store.audit(f"package-{'review' if state == 'reviewed' else 'approve'}", sid,
                        {"version": int(record["version"]), "content_sha256": record["content_sha256"],
                         "purpose": purpose})
            store.con.execute("COMMIT")
        except BaseException:
            store.con.execute("ROLLBACK")
            raise
    return _one_version(store, sid, record["version"])


def disseminate(store, subject_id: str, version: int, forces: dict[str, str], handling_code: str,
                handling_conditions: str | None, purpose: str) -> list[int]:
    """Log that an approved version went to each force ({force_code: 'lead' | 'copy'})."""
    purpose = exports.check_purpose(purpose)
    if not purpose:
        raise WorkbenchError("--purpose is required to disseminate a package: say why it is shared")
    record = _one_version(store, subject_id, version)
    if record["state"] != "approved":
        raise WorkbenchError(f"{subject_id} version {record['version']} is {record['state']}: only an approved "
                             "package is disseminated")
    ids = []
    with store.writing():
        store.con.execute("BEGIN TRANSACTION")
        try:
            for force, role in forces.items():
                ids.append(int(store.query("packages/dissemination_insert", subject_id=subject_id,
                                           version=int(record["version"]), force_code=force, role=role,
                                           handling_code=handling_code, handling_conditions=handling_conditions,
                                           sent_at=utcnow(), sent_by=os_user(),
                                           purpose=purpose).dissemination_id.iloc[0]))
            store.audit("package-disseminate", subject_id, {"version": int(record["version"]), "forces": forces,
                                                            "handling_code": handling_code, "purpose": purpose})
            store.con.execute("COMMIT")
        except BaseException:
            store.con.execute("ROLLBACK")
            raise
    return ids


def disseminations(store, subject_id: str = "") -> pd.DataFrame:
    return store.query("packages/disseminations", subject_id=subject_id)
