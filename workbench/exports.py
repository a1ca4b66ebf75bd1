"""The one writer for tabular products, and the audit of every product written.

Every CSV, XLSX or JSON Lines file the workbench writes for people (patrol plans, quarantine exports,
the ingest browser's export) goes through `write_table`:

- **formula-safe, headers included**: a text cell or column name that a spreadsheet would run as a
  formula (starting with = + - @, a tab, CR or LF, or their full-width forms, after any leading spaces)
  gets a leading apostrophe (`safe_cell`); numbers, and text that is just a number such as "-5", stay
  as they are. In XLSX no cell is ever a formula cell, and characters XLSX cannot hold are replaced;
- **the format follows the extension** and an extension that does not match the format is refused
  (`check_output`): a `.pdf` is never written as CSV;
- **atomic**: the file appears complete or not at all; an unwritable path is one line naming the path,
  never a traceback;
- **marked**: an XLSX carries the security marking in the printed header and footer of every page and
  in its document properties. CSV and JSON Lines stay plain tables (a retailer re-submits them; pandas
  reads them back), so their marking is the one recorded in their audit row.

`audit_export` records a written product (sha256, bytes, marking, purpose) in the store's audit log
through a write connection. A product it cannot audit is deleted and the call fails: an export must
either be audited or not exist.
"""
from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from workbench import config
from workbench.errors import WorkbenchError

FORMATS: dict[str, tuple[str, ...]] = {"csv": (".csv", ".tsv"), "xlsx": (".xlsx",), "jsonl": (".jsonl", ".ndjson")}
TABLE_SUFFIXES = tuple(s for suffixes in FORMATS.values() for s in suffixes)
# what a spreadsheet may take as the start of a formula (or of a DDE payload), full-width forms included
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_LEADING_SPACE = " \u00a0\u3000"
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
PURPOSE_MAX = 500
_PURPOSE_BAD = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


# -- cells ----------------------------------------------------------------------------------------
def safe_cell(value: Any) -> Any:
    """`value` made safe to open in a spreadsheet: text that could start a formula gets a leading
    apostrophe; numbers (and text that is only a number) and every other type are returned unchanged."""
    if isinstance(value, str):
        probe = value.lstrip(_LEADING_SPACE)
        if probe.startswith(FORMULA_START) and not _NUMBER.fullmatch(probe):
            return "'" + value
    return value


def _plain(value: Any) -> Any:
    """A cell value as a plain Python value: missing -> None, numpy/pandas scalars -> Python, containers -> JSON."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, (dict, list, tuple, np.ndarray)):
        return json.dumps(value.tolist() if isinstance(value, np.ndarray) else value, ensure_ascii=False, default=str)
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.to_pydatetime()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _json_safe(value: Any) -> Any:
    """JSON Lines: keys and text leaves made formula-safe, structure kept."""
    if isinstance(value, dict):
        return {safe_cell(str(k)): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    value = _plain(value)
    return safe_cell(value) if isinstance(value, str) else value


# -- paths ----------------------------------------------------------------------------------------
def _nearest_existing(path: Path) -> Path:
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    return parent


def _check_place(path: Path, what: str) -> None:
    parent = _nearest_existing(path)
    if not parent.is_dir():
        raise WorkbenchError(f"{path}: cannot write {what} there: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise WorkbenchError(f"{path}: cannot write {what} there: folder {parent} is not writable")


def _either(suffixes: Sequence[str]) -> str:
    return suffixes[0] if len(suffixes) == 1 else ", ".join(suffixes[:-1]) + " or " + suffixes[-1]


def check_output(path: str | Path, suffixes: Iterable[str]) -> Path:
    """`path` if its extension is one of `suffixes` and it can be written (its folder exists or can be
    created, and is writable); else a one-line WorkbenchError naming the path and the rule."""
    path = Path(path)
    allowed = tuple(s.lower() for s in suffixes)
    if path.suffix.lower() not in allowed:
        raise WorkbenchError(f"{path}: output must be a {_either(allowed)} file "
                             f"(got {path.suffix or 'no extension'}); the extension says the format")
    if path.is_dir():
        raise WorkbenchError(f"{path}: is a folder; give a file name ending in {_either(allowed)}")
    if path.exists() and not os.access(path, os.W_OK):
        raise WorkbenchError(f"{path}: the file exists and is read-only")
    _check_place(path, "a file")
    return path


def check_folder(path: str | Path) -> Path:
    """An output folder (a patrol plan's): not an existing file, and creatable/writable."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise WorkbenchError(f"{path}: is a file; the output must be a folder")
    if path.is_dir():
        if not os.access(path, os.W_OK | os.X_OK):
            raise WorkbenchError(f"{path}: cannot write into folder {path}: it is not writable")
    else:
        _check_place(path, "a folder")
    return path


def format_of(path: str | Path, fmt: str | None = None) -> str:
    """The table format for `path`: from its extension, which must agree with `fmt` when one is given."""
    path = Path(path)
    if fmt is not None:
        if fmt not in FORMATS:
            raise WorkbenchError(f"unknown table format {fmt!r}: use {', '.join(FORMATS)}")
        check_output(path, FORMATS[fmt])
        return fmt
    check_output(path, TABLE_SUFFIXES)
    return next(f for f, suffixes in FORMATS.items() if path.suffix.lower() in suffixes)


def _mkdir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WorkbenchError(f"{path}: cannot create the output folder: {exc.strerror or exc}") from None


# -- tables ---------------------------------------------------------------------------------------
def _table(data, columns: Sequence | None) -> tuple[list, Iterable[Sequence]]:
    """(column names, rows) from a DataFrame, a list of dicts or a list of sequences."""
    if isinstance(data, pd.DataFrame):
        frame = data[list(columns)] if columns is not None else data
        return list(frame.columns), frame.itertuples(index=False, name=None)
    rows = list(data)
    if rows and isinstance(rows[0], dict):
        if columns is None:
            columns = list(dict.fromkeys(k for row in rows for k in row))
        return list(columns), ([row.get(c) for c in columns] for row in rows)
    if columns is None:
        raise ValueError("write_table needs columns= for rows given as sequences")
    return list(columns), rows


def _csv_value(value: Any) -> Any:
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return safe_cell(value if isinstance(value, (int, float, bool, str, date)) else str(value))


def _xlsx_value(value: Any) -> Any:
    value = _plain(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.isoformat(sep=" ")          # XLSX has no time zones
    if isinstance(value, (bool, int, float, datetime, date)) or value is None:
        return value
    return safe_cell(_XLSX_ILLEGAL.sub("\ufffd", str(value)))


def _header_footer_text(text: str) -> str:
    return text.replace("&", "&&")   # & starts a code (page number, font) in XLSX headers and footers


def write_table(rows_or_frame, path: str | Path, *, columns: Sequence | None = None, fmt: str | None = None,
                delimiter: str | None = None, sheet: str = "data", marking: bool = True) -> dict:
    """Write a table as CSV, XLSX or JSON Lines (format from the extension), formula-safe headers
    included. Returns file, format, rows, columns, bytes, sha256 and marking."""
    path = Path(path)
    fmt = format_of(path, fmt)
    names, rows = _table(rows_or_frame, columns)
    if fmt == "jsonl" and columns is None and isinstance(rows_or_frame, list) and rows_or_frame \
            and isinstance(rows_or_frame[0], dict):
        rows = rows_or_frame          # JSON Lines of records: each line keeps its own keys, nesting kept
    mark = config.security_marking()
    _mkdir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    count = 0
    try:
        if fmt == "csv":
            sep = delimiter or ("\t" if path.suffix.lower() == ".tsv" else ",")
            with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
                writer = csv.writer(fh, delimiter=sep)
                writer.writerow([safe_cell(str(n)) for n in names])
                for row in rows:
                    writer.writerow([_csv_value(v) for v in row])
                    count += 1
        elif fmt == "xlsx":
            import openpyxl

            book = openpyxl.Workbook(write_only=True)
            ws = book.create_sheet(sheet)
            if marking:
                for part in (ws.oddHeader, ws.oddFooter, ws.evenHeader, ws.evenFooter,
                             ws.firstHeader, ws.firstFooter):
                    part.center.text = _header_footer_text(mark)
                book.properties.keywords = mark
                book.properties.category = mark
            ws.append([_xlsx_value(str(n)) for n in names])
            for row in rows:
                ws.append([_xlsx_value(v) for v in row])
                count += 1
            book.save(tmp)
        else:
            with open(tmp, "w", encoding="utf-8") as fh:
                for row in rows:
                    obj = row if isinstance(row, dict) else {str(n): v for n, v in zip(names, row)}
                    fh.write(json.dumps(_json_safe(obj), ensure_ascii=False, default=str) + "\n")
                    count += 1
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise WorkbenchError(f"{path}: cannot write the {fmt.upper()} file: {exc.strerror or exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    sha, size = file_digest(path)
    return {"file": str(path), "format": fmt, "rows": count, "columns": [str(n) for n in names], "bytes": size,
            "sha256": sha, "marking": mark}


def file_digest(path: str | Path) -> tuple[str, int]:
    """(sha256 hex, bytes) of a file."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


# -- audit ----------------------------------------------------------------------------------------
def check_purpose(purpose: str | None) -> str | None:
    """An export's stated purpose: optional, one line of printable text, at most PURPOSE_MAX characters."""
    if purpose is None:
        return None
    text = str(purpose).strip()
    if not text:
        return None
    if _PURPOSE_BAD.search(text):
        raise WorkbenchError("--purpose must be one line of printable text (no control or direction characters)")
    if len(text) > PURPOSE_MAX:
        raise WorkbenchError(f"--purpose is {len(text)} characters; keep it under {PURPOSE_MAX}")
    return text


def discard(paths: Iterable[str | Path]) -> list[str]:
    """Delete written product files (those that exist); the names deleted."""
    gone = []
    for p in paths:
        p = Path(p)
        try:
            if p.is_file():
                p.unlink()
                gone.append(str(p))
        except OSError:
            pass
    return gone


def audit_export(store_or_db, action: str, path: str | Path, details: dict | None = None,
                 purpose: str | None = None, *, files: Iterable[str | Path] | None = None) -> dict:
    """Record a written product in the audit log: object `path`, and for each file written (`files`,
    default [path]) its sha256 and bytes, plus the marking and the purpose. `store_or_db` is an open
    Store (read-only ones write the row through `Store.audit_required`), or a database path (None: the
    default) opened for writing just for this row.

    If the row cannot be written (the store is read-only, locked by another process, damaged ...) the
    files are deleted and a WorkbenchError says so: an export must either be audited or not exist."""
    from workbench.store import Store, open_store

    path = Path(path)
    written = [Path(f) for f in (files if files is not None else [path])]
    try:
        purpose = check_purpose(purpose)
        record: dict[str, Any] = dict(details or {})
        digests = []
        for f in written:
            sha, size = file_digest(f)
            digests.append({"file": str(f), "sha256": sha, "bytes": size})
        if len(digests) == 1:
            record.update(sha256=digests[0]["sha256"], bytes=digests[0]["bytes"])
        else:
            record.update(files=digests, bytes=sum(d["bytes"] for d in digests))
        record.update(marking=config.security_marking(), purpose=purpose)
        if isinstance(store_or_db, Store):   # a read-only store (a notebook's) writes it through a brief write connection
            store_or_db.audit_required(action, str(path), record)
        else:
            with open_store(store_or_db) as store:
                store.audit(action, str(path), record)
    except BaseException as exc:
        discard(written)
        if not isinstance(exc, Exception):
            raise
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise WorkbenchError(f"{path}: not written: the export could not be recorded in the audit log ({reason}); "
                             "an export must either be audited or not exist") from None
    return record
