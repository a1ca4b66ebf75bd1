"""A store for the retention tests: the session's ingested sample world copied, with one planted referral whose
person, plate, crime number, references and evidence occur nowhere else, sent three times through the ordinary
ingest (first without a crime number: quarantined; then accepted; then resubmitted changed: a second version),
named with two members of an active group; then resolved (persons, vehicles, groups). Also: scanning a store's
every text cell, and output files, for those values."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb

from tests.hotspot_fixtures import _workbench, ingested_world

NAME = "Quillon Zarbeck"
DOB = "1977-07-13"
PLATE = "QZ71 XKV"
CRIME = "12/0999901/25"
REF = "BRM-9999901"
INCIDENT_REF = "BRM-INC-09999901"
EVIDENCE = "DEMS-Q7Z3X9V1"
HEADER = ("incident_id,store_no,occurred,crime_ref,police_force,loss_gbp,num_offenders,violence,detained,tactic_codes,"
          "offender_names,offender_dobs,vehicle_reg,cctv,dems_ref,narrative,referral_id,referred_at,grading")


def _row(crime: str, loss: str, referred: str) -> str:
    return (f"{INCIDENT_REF},0958,2025-03-14 14:42,{crime},North Yorkshire Police,{loss},3,N,N,PUSHOUT; ALCOHOL,"
            f"{NAME}; Mark Byrne; Jordan Lloyd,{DOB}; 1986-05-20; 1981-08-04,{PLATE},Y,{EVIDENCE},"
            f"\"Three offender(s) came in together, one called {NAME}, and took spirits worth about £{loss}.\","
            f"{REF},{referred},2B P")


def needles() -> dict[str, str]:
    """What must not survive a disposal, squeezed to capitals and digits (as they are searched)."""
    raw = {"name": NAME, "forename": "Quillon", "surname": "Zarbeck", "plate": PLATE, "crime": CRIME, "ref": REF,
           "incident_ref": INCIDENT_REF, "evidence": EVIDENCE, "dob": DOB}
    return {k: squeeze(v) for k, v in raw.items()}


def squeeze(text: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", str(text).upper())


def planted_world(base: Path) -> Path:
    """The ingested world + the planted referral, resolved; built once under base (copy it before writing)."""
    built = ingested_world(base / "ingested_world")
    root = base / "retention_planted"
    db, marker = root / "planted.duckdb", root / "built.json"
    if marker.exists() and db.exists():
        return db
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(built["db"], db)
    files = []
    for i, (crime, loss, referred) in enumerate((("", "411.07", "2025-03-18 09:00"),
                                                 (CRIME, "411.07", "2025-03-20 10:00"),
                                                 (CRIME, "421.07", "2025-03-25 11:30"))):
        path = root / f"brightmart_incidents_plant{i}.csv"
        path.write_text(HEADER + "\n" + _row(crime, loss, referred) + "\n", encoding="utf-8")
        files.append(_workbench("ingest", str(path), "--db", str(db)))
    from workbench.linkage.run import run_all
    from workbench.store import open_store

    with open_store(db) as store:
        runs = run_all(store)
    marker.write_text(json.dumps({"ingest": files, "runs": [{k: v for k, v in r.items() if k in
                                                             ("entity", "run_id", "entities")} for r in runs]},
                                 default=str))
    return db


def store_cells(db: Path) -> dict[tuple[str, str], list[str]]:
    """Every non-null cell of every table of the store, as text, by (table, column): information_schema, every
    column cast to VARCHAR (JSON, dates and numbers too)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        cols = con.execute("SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main' "
                           "AND table_name IN (SELECT table_name FROM information_schema.tables WHERE "
                           "table_type = 'BASE TABLE' AND table_schema = 'main') ORDER BY 1, 2").fetchall()
        out = {}
        for table, column in cols:
            values = con.execute(f'SELECT DISTINCT CAST("{column}" AS VARCHAR) FROM "{table}" '
                                 f'WHERE "{column}" IS NOT NULL').fetchall()
            out[(table, column)] = [v for (v,) in values]
        return out
    finally:
        con.close()


def hits_in_store(db: Path, wanted: dict[str, str]) -> list[tuple]:
    """(table, column, needle name, cell excerpt) for every cell holding a squeezed needle."""
    found = []
    for (table, column), values in store_cells(db).items():
        for value in values:
            flat = squeeze(value)
            for key, needle in wanted.items():
                if needle in flat:
                    found.append((table, column, key, value[:160]))
    return found


def file_text(path: Path) -> str:
    """What a recipient can read in one output file (the package read-back for HTML, PDF, DOCX, XLSX; else the
    bytes as UTF-8), inline images left out."""
    from workbench.packages import read_back

    try:
        text = read_back(path)
    except Exception:
        text = ""
    if path.suffix.lower() not in (".pdf", ".xlsx", ".docx", ".zip", ".png"):
        text += "\n" + path.read_bytes().decode("utf-8", errors="replace")
    return re.sub(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=\s]+", " ", text)


def hits_in_files(folder: Path, wanted: dict[str, str]) -> list[tuple]:
    """(file, needle name, excerpt) for every output file (and zip member) whose readable text holds a needle."""
    import tempfile
    import zipfile

    import hashlib

    found = []
    files = [p for p in sorted(Path(folder).rglob("*")) if p.is_file()
             and p.suffix.lower() not in (".png", ".duckdb", ".wal")]
    seen = {hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
    for path in files:
        texts = {str(path.relative_to(folder)): file_text(path)}
        if path.suffix.lower() == ".zip":      # members that are not the same bytes as a file already read
            with zipfile.ZipFile(path) as zf, tempfile.TemporaryDirectory() as tmp:
                for name in zf.namelist():
                    if name.endswith("/") or name.lower().endswith(".png"):
                        continue
                    if hashlib.sha256(zf.read(name)).hexdigest() not in seen:
                        zf.extract(name, tmp)
                        texts[f"{path.name}!{name}"] = file_text(Path(tmp) / name)
        for where, text in texts.items():
            flat = squeeze(text)
            for key, needle in wanted.items():
                at = flat.find(needle)
                if at >= 0:
                    found.append((where, key, flat[max(0, at - 40):at + 60]))
    return found
