"""`workbench package build|verify|diff|words|review|approve|disseminate|list`: intelligence packages
(docs/packages.md). Every build and dissemination needs --purpose, which is written to the audit log."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from workbench.commands.common import DbOption, JsonOption, emit_json, print_table, say

package_app = typer.Typer(help="Intelligence packages for handover: build, verify, diff, review, approve, "
                               "disseminate (docs/packages.md).", no_args_is_help=True)

PurposeOption = typer.Option(None, "--purpose", help="Why (required; written to the audit log).")


def _rows(frame) -> list[dict]:
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")


def _subject(group: Optional[str], person: Optional[str], vehicle: Optional[str], most: bool = False,
             store=None) -> str:
    from workbench.errors import WorkbenchError

    given = [v for v in (group, person, vehicle) if v]
    if len(given) + bool(most) != 1:
        raise WorkbenchError("give exactly one subject: --group GR..., --person RP..., --vehicle RV... or "
                             "--most-cross-border")
    if most:
        from workbench.crossborder import several_forces

        groups = several_forces(store)
        if groups.empty:
            raise WorkbenchError("no active group touches two or more forces: run `workbench link run` first")
        return str(groups.group_id.iloc[0])
    return given[0]


def _subject_and_version(subject: str) -> tuple[str, Optional[int]]:
    """A subject id, or a package folder (its manifest names the subject and the version built)."""
    folder = Path(subject)
    if folder.is_dir():
        from workbench import packages

        meta = packages.load(folder)["package"]
        return meta["subject_id"], int(meta["version"])
    return subject, None


@package_app.command("build")
def build_cmd(out: Path = typer.Option(..., "--out", help="Folder for the package (empty, new, or an earlier "
                                                          "package's)."),
              group: Optional[str] = typer.Option(None, "--group", help="A group id, e.g. GR00001."),
              person: Optional[str] = typer.Option(None, "--person", help="A resolved person id (RP...)."),
              vehicle: Optional[str] = typer.Option(None, "--vehicle", help="A resolved vehicle id (RV...)."),
              lead_force: Optional[str] = typer.Option(None, "--lead-force", help="Force code to address it to "
                                                       "(default: the cross-border lead-force recommendation)."),
              most: bool = typer.Option(False, "--most-cross-border", help="The active group touching the most "
                                                                          "forces."),
              sections: Optional[str] = typer.Option(None, "--sections", help="Comma-separated sections to hold "
                                                     "(summary,subjects,activity,geography,associations,vehicles,"
                                                     "tactics,timeline,evidence,risk,assessment,gaps,"
                                                     "recommendations) or all. Default: those of the earlier "
                                                     "package in --out, else the settings' (all)."),
              omit: Optional[str] = typer.Option(None, "--omit", help="Comma-separated sections to leave out."),
              purpose: Optional[str] = PurposeOption, db: Optional[Path] = DbOption,
              json_out: bool = JsonOption) -> None:
    """Build a package: HTML, PDF, DOCX, annex (CSV, XLSX), i2 ANX, manifest and zip, read back and audited.
    A failed build leaves the earlier package in --out as it was."""
    from workbench import packages
    from workbench.store import open_store

    purpose = packages.require_purpose(purpose)
    if not most:
        _subject(group, person, vehicle)
    if sections is not None or omit is not None:
        packages.choose_sections(sections, omit)          # a wrong name fails before the store is opened
    with open_store(db) as store:
        subject = _subject(group, person, vehicle, most, store)
        result = packages.build(store, subject, out, purpose=purpose, lead_force=lead_force, sections=sections,
                                omit=omit)
    if json_out:
        emit_json(result)
        return
    say(f"built {result['subject_id']} version {result['version']} ({result['state']}) in {result['out']}: "
        f"{len(result['files'])} files, {result['incidents']:,} incidents, PDF {result['pdf_pages']} pages; lead force "
        f"{result['lead_force']}, copies {', '.join(result['copies']) or 'none'}; {result['marking']}; redaction "
        f"check passed ({result['forbidden_values_checked']:,} withheld values searched)")
    if len(result["sections"]) < len(packages.SECTIONS):
        say(f"sections ({'as in the earlier package' if result['sections_from'] == 'earlier package' else 'chosen'}): "
            f"{', '.join(result['sections'])}; left out: "
            f"{', '.join(s for s in packages.SECTIONS if s not in result['sections'])}")


@package_app.command("verify")
def verify_cmd(folder: Path = typer.Argument(..., help="A package folder."), db: Optional[Path] = DbOption,
               json_out: bool = JsonOption) -> None:
    """Recompute every figure and annex table from the store and check every file's SHA-256: exit 0 when the
    package still holds, 1 listing each difference."""
    from workbench import packages
    from workbench.store import open_store

    with open_store(db, read_only=True) as store:
        result = packages.verify(store, folder)
    if json_out:
        emit_json(result)
    elif result["ok"]:
        say(f"package {folder} verified: {result['files_checked']} files and {result['figures_checked']} figures "
            "match the store")
    else:
        say(f"package {folder} does NOT match the store ({len(result['problems'])} differences):", err=True)
        for line in result["problems"]:
            say(f"  {line}", err=True)
    if not result["ok"]:
        raise typer.Exit(1)


@package_app.command("diff")
def diff_cmd(old: Path = typer.Argument(..., help="The earlier package folder."),
             new: Path = typer.Argument(..., help="The later package folder."), json_out: bool = JsonOption) -> None:
    """What is new since the last handover: incidents, subjects, vehicles, forces, crime numbers, figures."""
    from workbench import packages

    result = packages.diff(old, new)
    if json_out:
        emit_json(result)
        return
    say(f"{result['subject_id']}: version {result['old_version']} -> {result['new_version']}")
    for key in ("incidents", "subjects", "vehicles", "forces", "crime_numbers"):
        part = result[key]
        say(f"  {key}: {len(part['new'])} new, {len(part['gone'])} gone"
            + (f" (new: {', '.join(part['new'][:10])}{' ...' if len(part['new']) > 10 else ''})" if part["new"] else ""))
    for f in result["figures"]:
        say(f"  {f['label']}: {f['old']} -> {f['new']}")


@package_app.command("words")
def words_cmd(subject: str = typer.Argument(..., help="The package subject (GR..., RP..., RV...)."),
              section: Optional[str] = typer.Option(None, "--section", help="summary, assessment or recommendations."),
              file: Optional[Path] = typer.Option(None, "--file", help="A UTF-8 text file with the new text."),
              db: Optional[Path] = DbOption, json_out: bool = JsonOption) -> None:
    """Save a new version of the analyst's text of a section from a file, or (no --file) list every version."""
    from workbench import packages
    from workbench.errors import WorkbenchError
    from workbench.store import open_store

    if file is not None:
        if section is None:
            raise WorkbenchError("--file needs --section (summary, assessment or recommendations)")
        try:
            body = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise WorkbenchError(f"{file}: cannot read the text ({getattr(exc, 'strerror', None) or exc})") from None
        with open_store(db) as store:
            record = packages.save_words(store, subject, section, body)
        if json_out:
            emit_json(record)
        else:
            say(f"{subject.strip().upper()} {record['section']}: version {record['version']}"
                + (" (unchanged)" if record.get("unchanged") else " saved"))
        return
    with open_store(db, read_only=True) as store:
        rows = _rows(packages.words_history(store, subject.strip().upper()))
    if section:
        rows = [r for r in rows if r["section"] == section.strip().lower()]
    if json_out:
        emit_json(rows)
        return
    print_table(f"Analyst's words for {subject}", [dict(r, body=(r["body"][:60] + "...") if len(r["body"]) > 60
                                                         else r["body"]) for r in rows],
                ["section", "version", "author", "saved_at", "body"])


def _state(subject: str, state: str, version: Optional[int], purpose: Optional[str], db, json_out: bool) -> None:
    from workbench import packages
    from workbench.store import open_store

    subject, built = _subject_and_version(subject)
    with open_store(db) as store:
        record = packages.set_state(store, subject, state, version if version is not None else built,
                                    purpose=purpose)
    if json_out:
        emit_json(record)
    else:
        say(f"{record['subject_id']} version {record['version']}: {record['state']}")


@package_app.command("review")
def review_cmd(subject: str = typer.Argument(..., help="The package subject, or a package folder."),
               version: Optional[int] = typer.Option(None, "--version", help="Default: the latest."),
               purpose: Optional[str] = typer.Option(None, "--purpose", help="Optional note for the audit log."),
               db: Optional[Path] = DbOption, json_out: bool = JsonOption) -> None:
    """Mark a package version reviewed (who and when are recorded)."""
    _state(subject, "reviewed", version, purpose, db, json_out)


@package_app.command("approve")
def approve_cmd(subject: str = typer.Argument(..., help="The package subject, or a package folder."),
                version: Optional[int] = typer.Option(None, "--version", help="Default: the latest."),
                purpose: Optional[str] = typer.Option(None, "--purpose", help="Optional note for the audit log."),
                db: Optional[Path] = DbOption, json_out: bool = JsonOption) -> None:
    """Approve a reviewed version: rebuilt, it carries no DRAFT watermark."""
    _state(subject, "approved", version, purpose, db, json_out)


@package_app.command("disseminate")
def disseminate_cmd(folder: Path = typer.Argument(..., help="The approved package folder being sent."),
                    to: Optional[List[str]] = typer.Option(None, "--to", help="Force codes (default: the lead force "
                                                                              "and every copy)."),
                    purpose: Optional[str] = PurposeOption, db: Optional[Path] = DbOption,
                    json_out: bool = JsonOption) -> None:
    """Log which version went to which force, when, under which handling code (the package's)."""
    from workbench import packages
    from workbench.errors import WorkbenchError
    from workbench.store import open_store

    purpose = packages.require_purpose(purpose, "disseminate a package")
    doc = packages.load(folder)
    meta = doc["package"]
    if meta["state"] != "approved":
        raise WorkbenchError(f"{folder}: this package is {meta['state']}: approve it and rebuild before sending")
    roles = {meta["lead_force"]: "lead", **{c: "copy" for c in meta["copies"]}}
    forces = {f.strip(): roles.get(f.strip(), "copy") for f in to} if to else roles
    conditions = "; ".join(meta.get("handling_conditions") or []) or None
    with open_store(db) as store:
        check = packages.verify(store, folder)
        if not check["ok"]:
            raise WorkbenchError(f"{folder}: does not verify against the store ({check['problems'][0]}); rebuild it")
        ids = packages.disseminate(store, meta["subject_id"], meta["version"], forces, meta["handling_code"],
                                   conditions, purpose)
    if json_out:
        emit_json({"dissemination_ids": ids, "forces": forces, "version": meta["version"]})
    else:
        say(f"{meta['subject_id']} version {meta['version']} logged as sent to {', '.join(forces)} "
            f"(handling code {meta['handling_code']})")


@package_app.command("list")
def list_cmd(subject: Optional[str] = typer.Argument(None, help="A subject (default: all)."),
             db: Optional[Path] = DbOption, json_out: bool = JsonOption) -> None:
    """Package versions built, their states, and the dissemination log."""
    from workbench import packages
    from workbench.store import open_store

    sid = (subject or "").strip().upper()
    with open_store(db, read_only=True) as store:
        versions = _rows(packages.versions(store, sid))
        sent = _rows(packages.disseminations(store, sid))
    if json_out:
        emit_json({"versions": versions, "disseminations": sent})
        return
    print_table("Package versions", versions, ["subject_id", "version", "state", "lead_force", "first_built_at",
                                                "reviewed_by", "approved_by", "approved_at"])
    print_table("Dissemination log", sent, ["dissemination_id", "subject_id", "version", "force_code", "role",
                                            "handling_code", "sent_at", "sent_by", "purpose"])


def register(app: typer.Typer) -> None:
    app.add_typer(package_app, name="package")
