"""Read any supported extract into DuckDB temporary tables, streaming, with bounded memory.

Every reader produces two temp tables on the store's connection:

    raw      (_row BIGINT, c0 VARCHAR, c1 VARCHAR, ...)   tabular files: one column per header
    raw      (_row BIGINT, _json VARCHAR)                  JSON / JSON Lines: one object per row
    raw_bad  (_row BIGINT, raw VARCHAR, message VARCHAR)   rows that could not be split into fields

Row numbers are 1-based data rows with the header as row 0 (for XLSX, the sheet row minus 1;
for JSON, the element or line index). Column identifiers are generated (c0, c1, ...), so no
header text ever reaches SQL. CSV is parsed by DuckDB (multi-threaded, streaming) when the file
is well formed; a malformed file falls back to Python's csv module so that each bad row is kept
and quarantined rather than the whole file failing.
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import decimal
import json
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from workbench.errors import WorkbenchError

SAMPLE_BYTES = 1 << 20
CHUNK_ROWS = 50_000
DELIMITERS = (",", ";", "\t", "|")
MAX_FIELD_BYTES = 64 << 20
csv.field_size_limit(min(sys.maxsize, MAX_FIELD_BYTES))


class ReadError(WorkbenchError):
    """The file cannot be read as any supported format (a file-level problem, nothing ingested)."""


@dataclass
class ReadResult:
    path: Path
    file_format: str                      # csv | xlsx | json | jsonl | parquet
    headers: list[str] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None
    engine: str = "duckdb"                # duckdb | python (fallback for malformed files)
    notes: list[str] = field(default_factory=list)

    @property
    def colmap(self) -> dict[str, str]:
        return {h: f"c{i}" for i, h in enumerate(self.headers)}

    @property
    def is_json(self) -> bool:
        return self.file_format in ("json", "jsonl")


# -- detection -------------------------------------------------------------------------------
def sniff_format(path: Path) -> str:
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise ReadError(f"cannot read {path}: {exc.strerror}") from None
    if not head:
        raise ReadError(f"{path.name}: the file is empty (0 bytes): nothing to ingest")
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "csv"  # UTF-16 text; CSV is the only UTF-16 format we accept
    text_head = head[3:] if head.startswith(codecs.BOM_UTF8) else head
    if b"\x00" in text_head or _binary_ratio(text_head) > 0.1:
        raise ReadError(f"{path.name}: the file is binary, not CSV, XLSX, JSON or Parquet")
    stripped = text_head.lstrip()
    if not stripped:
        raise ReadError(f"{path.name}: the file holds only whitespace: nothing to ingest")
    if stripped[:1] == b"[":
        return "json"
    if stripped[:1] == b"{":
        return "jsonl"
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        raise ReadError(f"{path.name}: named .xlsx but is not an XLSX workbook (no zip signature)")
    return "csv"


def _binary_ratio(data: bytes) -> float:
    if not data:
        return 0.0
    controls = sum(1 for b in data if b < 9 or 13 < b < 32)
    return controls / len(data)


def detect_encoding(path: Path) -> str:
    with open(path, "rb") as fh:
        sample = fh.read(SAMPLE_BYTES)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=len(sample) < SAMPLE_BYTES)
        return "utf-8"
    except UnicodeDecodeError:
        return "cp1252"


def detect_delimiter(header_line: str) -> str:
    counts = {d: _count_outside_quotes(header_line, d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _count_outside_quotes(line: str, delim: str) -> int:
    count, quoted = 0, False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif ch == delim and not quoted:
            count += 1
    return count


def _first_record_text(path: Path, encoding: str) -> str:
    """The header record's text (may span lines when a header cell is quoted across a newline)."""
    with open(path, "r", encoding=encoding, errors="replace", newline="") as fh:
        text = fh.read(SAMPLE_BYTES)
    lines = []
    quoted = False
    for line in text.splitlines(keepends=True):
        lines.append(line)
        quoted ^= line.count('"') % 2 == 1
        if not quoted:
            break
    return "".join(lines).rstrip("\r\n")


def _clean_headers(path: Path, raw_headers: list) -> list[str]:
    headers = []
    for i, h in enumerate(raw_headers):
        text = "" if h is None else str(h).strip().lstrip("\ufeff")
        headers.append(text or f"column_{i + 1}")
    while headers and headers[-1].startswith("column_") and raw_headers[len(headers) - 1] in (None, ""):
        headers.pop()
    seen: dict[str, int] = {}
    dupes = []
    for h in headers:
        key = h.lower()
        if key in seen:
            dupes.append(h)
        seen[key] = 1
    if dupes:
        raise ReadError(f"{path.name}: the header repeats column {dupes[0]!r}; each column must appear once "
                        "(rename or remove the duplicate and re-submit)")
    if not headers:
        raise ReadError(f"{path.name}: no header row found")
    return headers


# -- CSV --------------------------------------------------------------------------------------
def read_header(path: Path) -> ReadResult:
    """Format, encoding, delimiter and header of a file, without reading its rows."""
    fmt = sniff_format(path)
    result = ReadResult(path=path, file_format=fmt)
    if fmt == "csv":
        result.encoding = detect_encoding(path)
        line = _first_record_text(path, result.encoding)
        if not line.strip():
            raise ReadError(f"{path.name}: the first line is blank; a header row is required")
        result.delimiter = detect_delimiter(line)
        result.headers = _clean_headers(path, next(csv.reader([line], delimiter=result.delimiter)))
    elif fmt == "xlsx":
        wb, ws = _open_sheet(path, None)
        try:
            first = next(ws.iter_rows(values_only=True, max_row=1), None)
        finally:
            wb.close()
        if not first or all(v is None for v in first):
            raise ReadError(f"{path.name}: the first sheet has no header row")
        result.headers = _clean_headers(path, list(first))
    elif fmt == "parquet":
        con = duckdb.connect()
        try:
            desc = con.execute("DESCRIBE SELECT * FROM read_parquet($p)", {"p": str(path)}).fetchall()
        except duckdb.Error as exc:
            raise ReadError(f"{path.name}: not a readable Parquet file: {str(exc).splitlines()[0]}") from None
        finally:
            con.close()
        result.headers = _clean_headers(path, [d[0] for d in desc])
    else:
        result.encoding = "utf-8"
        result.headers = _json_keys(path, fmt)
    return result


def _json_keys(path: Path, fmt: str) -> list[str]:
    """Top-level keys of the first few objects (for source auto-detection)."""
    keys: list[str] = []
    with open(path, "r", encoding="utf-8-sig", errors="replace") as fh:
        text = fh.read(SAMPLE_BYTES)
    decoder = json.JSONDecoder()
    objs = []
    if fmt == "jsonl":
        for line in text.splitlines()[:20]:
            try:
                objs.append(json.loads(line))
            except ValueError:
                continue
    else:
        idx = text.index("[") + 1
        for _ in range(20):
            while idx < len(text) and text[idx] in " \t\r\n,":
                idx += 1
            try:
                obj, idx = decoder.raw_decode(text, idx)
            except ValueError:
                break
            objs.append(obj)
    for obj in objs:
        if isinstance(obj, dict):
            for k in obj:
                if k not in keys:
                    keys.append(str(k))
    return keys


def drop_temp_relation(con, name: str, backing_table: str) -> None:
    """Drop temp relation `name`, whether a view or a table, and the table behind it (constant names only)."""
    kinds = dict(con.execute("SELECT table_name, table_type FROM information_schema.tables "
                             "WHERE table_catalog = 'temp' AND table_name IN ($a, $b)",
                             {"a": name, "b": backing_table}).fetchall())
    if kinds.get(name):
        con.execute(f"DROP {'VIEW' if kinds[name] == 'VIEW' else 'TABLE'} {name}")
    if kinds.get(backing_table):
        con.execute(f"DROP TABLE {backing_table}")


def drop_raw(con) -> None:
    """Drop raw, whichever form it has: a table, or (CSV fast path) a view numbering the rows of raw_cells."""
    drop_temp_relation(con, "raw", "raw_cells")


def _create_raw_bad(con) -> None:
    drop_raw(con)
    con.execute("DROP TABLE IF EXISTS raw_bad")
    con.execute("CREATE TEMP TABLE raw_bad (_row BIGINT, raw VARCHAR, message VARCHAR)")


def _create_raw_tables(con, ncols: int | None) -> None:
    _create_raw_bad(con)
    if ncols is None:
        con.execute("CREATE TEMP TABLE raw (_row BIGINT, _json VARCHAR)")
    else:
        cols = ", ".join(f"c{i} VARCHAR" for i in range(ncols))
        con.execute(f"CREATE TEMP TABLE raw (_row BIGINT, {cols})")  # generated identifiers only


def _transcode_to_utf8(path: Path, encoding: str, tmp_dir: str) -> Path:
    out = Path(tmp_dir) / "transcoded.csv"
    with open(path, "r", encoding=encoding, errors="replace", newline="") as src, \
            open(out, "w", encoding="utf-8", newline="") as dst:
        while True:
            block = src.read(1 << 22)
            if not block:
                break
            dst.write(block)
    return out


def load_csv(con, result: ReadResult, tmp_dir: str) -> None:
    n = len(result.headers)
    path = result.path
    if result.encoding in ("cp1252", "utf-16"):
        path = _transcode_to_utf8(result.path, result.encoding, tmp_dir)
        result.notes.append(f"transcoded from {result.encoding}")
    _create_raw_bad(con)
    columns = {f"c{i}": "VARCHAR" for i in range(n)}
    try:
        # Row numbers without a window (row_number() OVER () serialises the read): with insertion order
        # preserved, a freshly created table's rowid is the file's data-row index, so raw is a view adding
        # rowid + 1 as _row. The python fallback below numbers its rows itself and fills a plain table.
        con.execute(
            "CREATE TEMP TABLE raw_cells AS SELECT * FROM read_csv($p, header = true, "
            "auto_detect = false, delim = $d, quote = '\"', escape = '\"', columns = $c, strict_mode = true, "
            "max_line_size = 16777216, null_padding = false, encoding = 'utf-8')",
            {"p": str(path), "d": result.delimiter, "c": columns},
        )
        con.execute("CREATE TEMP VIEW raw AS SELECT rowid + 1 AS _row, * FROM raw_cells")
        result.engine = "duckdb"
        return
    except duckdb.Error:
        _create_raw_tables(con, n)
    result.engine = "python"
    _load_csv_python(con, result, n)


def _load_csv_python(con, result: ReadResult, n: int) -> None:
    encoding = result.encoding or "utf-8"
    try:
        _csv_rows_python(con, result, n, encoding, errors="strict")
    except UnicodeDecodeError:
        con.execute("DELETE FROM raw")
        con.execute("DELETE FROM raw_bad")
        result.encoding = "cp1252"
        result.notes.append("not valid UTF-8 throughout: read as cp1252")
        _csv_rows_python(con, result, n, "cp1252", errors="replace")


def _csv_rows_python(con, result: ReadResult, n: int, encoding: str, errors: str) -> None:
    buf: list[list] = []
    bad: list[tuple] = []
    with open(result.path, "r", encoding=encoding, errors=errors, newline="") as fh:
        reader = csv.reader(fh, delimiter=result.delimiter, strict=False)
        try:
            next(reader)  # header
        except (StopIteration, csv.Error):
            return
        row_no = 0
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                row_no += 1
                bad.append((row_no, "", f"row cannot be parsed as CSV ({exc})"))
                continue
            if not fields or all(f == "" for f in fields):
                continue
            row_no += 1
            if len(fields) != n:
                text = result.delimiter.join(fields)
                bad.append((row_no, text, f"row has {len(fields)} fields but the header has {n} "
                            "(truncated row, stray delimiter or unquoted text)"))
                continue
            buf.append([row_no] + [None if f == "" else f for f in fields])
            if len(buf) >= CHUNK_ROWS:
                _flush(con, buf, n)
    _flush(con, buf, n)
    if bad:
        con.executemany("INSERT INTO raw_bad VALUES (?, ?, ?)", bad)


def _flush(con, buf: list[list], n: int) -> None:
    if not buf:
        return
    arrays = [pa.array([r[0] for r in buf], pa.int64())]
    for i in range(n):
        arrays.append(pa.array([r[i + 1] for r in buf], pa.string()))
    _chunk = pa.Table.from_arrays(arrays, names=["_row"] + [f"c{i}" for i in range(n)])  # noqa: F841
    con.execute("INSERT INTO raw SELECT * FROM _chunk")
    buf.clear()


# -- XLSX -------------------------------------------------------------------------------------
def _open_sheet(path: Path, sheet: str | None):
    import openpyxl
    import zipfile

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise ReadError(f"{path.name}: not a readable XLSX workbook ({type(exc).__name__}: {exc})") from None
    except Exception as exc:  # openpyxl raises assorted errors on corrupt parts
        raise ReadError(f"{path.name}: not a readable XLSX workbook ({type(exc).__name__})") from None
    if sheet and sheet in wb.sheetnames:
        return wb, wb[sheet]
    if not wb.worksheets:
        wb.close()
        raise ReadError(f"{path.name}: the workbook has no sheets")
    return wb, wb.worksheets[0]


def cell_text(value) -> str | None:
    """A cell as text: never evaluated (formulas arrive as their '=...' text)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value if value.strip() != "" else None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, (int, decimal.Decimal)):
        return str(value)
    return str(value)


_FORMULA_OR_ERROR = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?f[\s>/]|\st="e"')


def _sheet_parts_plain(path: Path) -> bool:
    """True when no worksheet of the workbook holds a formula or an error cell (read from the sheet XML as it
    is decompressed). Only then may the fast reader, which sees cached values, stand in for openpyxl, which
    gives formulas as their '=...' text and errors as '#N/A'."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            parts = [i for i in zf.infolist() if i.filename.startswith("xl/worksheets/") and i.filename.endswith(".xml")]
            for info in parts:
                with zf.open(info) as fh:
                    tail = b""
                    while chunk := fh.read(1 << 20):
                        if _FORMULA_OR_ERROR.search(tail + chunk):
                            return False
                        tail = chunk[-32:]
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, EOFError):
        return False            # openpyxl gives the message for a damaged workbook
    return bool(parts)


class _NotLikeOpenpyxl(Exception):
    """A cell the fast reader cannot give as openpyxl would: the file is read again by openpyxl."""


def _like_openpyxl(value):
    kind = type(value)
    if kind is dt.date:            # calamine: a bare date when the time is midnight; openpyxl: a datetime
        return dt.datetime(value.year, value.month, value.day)
    if kind is float and abs(value) >= 1e15 and value.is_integer():
        raise _NotLikeOpenpyxl     # openpyxl makes an int or a float of the cell's text by how it is written
    return value


def _calamine_rows(path: Path, sheet: str | None):
    """(sheet row number, values) from row 2 on, by python-calamine (Rust): about ten times openpyxl's speed on
    large plain sheets. Values as openpyxl gives them (_like_openpyxl); leading blank rows and columns keep
    their positions."""
    from python_calamine import CalamineWorkbook, SheetTypeEnum

    wb = CalamineWorkbook.from_path(str(path))
    try:
        names = [m.name for m in wb.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
        ws = wb.get_sheet_by_name(sheet if sheet in names else names[0])
        first_row, first_col = ws.start if ws.start else (0, 0)
        pad = [None] * first_col
        for k, values in enumerate(ws.iter_rows()):
            sheet_row = first_row + k + 1
            if sheet_row < 2:
                continue
            yield sheet_row, pad + [_like_openpyxl(v) for v in values]
    finally:
        wb.close()


def _openpyxl_rows(path: Path, sheet: str | None):
    wb, ws = _open_sheet(path, sheet)
    try:
        rows = ws.iter_rows(values_only=True)
        next(rows, None)
        yield from enumerate(rows, start=2)
    finally:
        wb.close()


def load_xlsx(con, result: ReadResult, sheet: str | None) -> None:
    if _sheet_parts_plain(result.path):
        try:
            _load_xlsx_rows(con, result, _calamine_rows(result.path, sheet), "calamine")
            return
        except _NotLikeOpenpyxl:
            pass                   # read again from the start (the raw tables are made anew)
    _load_xlsx_rows(con, result, _openpyxl_rows(result.path, sheet), "openpyxl")


def _load_xlsx_rows(con, result: ReadResult, rows, engine: str) -> None:
    n = len(result.headers)
    _create_raw_tables(con, n)
    result.engine = engine
    buf: list[list] = []
    bad: list[tuple] = []
    try:
        for sheet_row, values in rows:
            texts = [cell_text(v) for v in values]
            if all(t is None for t in texts):
                continue
            row_no = sheet_row - 1
            if len(texts) > n and any(t is not None for t in texts[n:]):
                bad.append((row_no, json.dumps(texts, ensure_ascii=False),
                            f"row has values in {len(texts)} columns but the header has {n}"))
                continue
            texts = (texts + [None] * n)[:n]
            buf.append([row_no] + texts)
            if len(buf) >= CHUNK_ROWS:
                _flush(con, buf, n)
    except (ReadError, _NotLikeOpenpyxl):
        raise
    except Exception as exc:
        raise ReadError(f"{result.path.name}: the workbook is damaged ({type(exc).__name__}: {exc})") from None
    finally:
        rows.close()
    _flush(con, buf, n)
    if bad:
        con.executemany("INSERT INTO raw_bad VALUES (?, ?, ?)", bad)


# -- JSON -------------------------------------------------------------------------------------
def load_json(con, result: ReadResult) -> None:
    _create_raw_tables(con, None)
    fmt = "newline_delimited" if result.file_format == "jsonl" else "array"
    try:
        con.execute(
            "INSERT INTO raw SELECT row_number() OVER () AS _row, json::VARCHAR FROM read_json_objects($p, "
            "format = $f, maximum_object_size = 67108864)",
            {"p": str(result.path), "f": fmt},
        )
        result.engine = "duckdb"
    except duckdb.Error:
        con.execute("DELETE FROM raw")
        result.engine = "python"
        if result.file_format == "jsonl":
            _jsonl_python(con, result)
        else:
            _json_array_python(con, result)
    # Elements that are not objects cannot be mapped to fields: keep them as malformed rows.
    con.execute(
        "INSERT INTO raw_bad SELECT _row, _json, 'element is a JSON ' || lower(json_type(_json)) || ', not an object'"
        " FROM raw WHERE json_type(_json) <> 'OBJECT'"
    )
    con.execute("DELETE FROM raw WHERE json_type(_json) <> 'OBJECT'")


def _jsonl_python(con, result: ReadResult) -> None:
    good, bad, row_no = [], [], 0
    with open(result.path, "r", encoding="utf-8-sig", errors="replace") as fh:
        for line in fh:
            if not line.strip():
                continue
            row_no += 1
            try:
                json.loads(line)
                good.append((row_no, line.strip()))
            except ValueError as exc:
                bad.append((row_no, line.rstrip("\r\n")[:100_000], f"line is not valid JSON ({exc})"))
            if len(good) >= CHUNK_ROWS:
                _flush_json(con, good)
    _flush_json(con, good)
    if bad:
        con.executemany("INSERT INTO raw_bad VALUES (?, ?, ?)", bad)


def _json_array_python(con, result: ReadResult) -> None:
    text = result.path.read_text(encoding="utf-8-sig", errors="replace")
    decoder = json.JSONDecoder()
    idx = text.find("[")
    if idx < 0:
        raise ReadError(f"{result.path.name}: not a JSON array of referral objects")
    idx += 1
    good, bad, row_no = [], [], 0
    while True:
        while idx < len(text) and text[idx] in " \t\r\n,":
            idx += 1
        if idx >= len(text) or text[idx] == "]":
            if idx >= len(text):
                # truncated before the closing bracket: elements read so far are kept
                result.notes.append("JSON array not closed (file truncated?)")
            break
        row_no += 1
        try:
            obj, end = decoder.raw_decode(text, idx)
        except ValueError as exc:
            bad.append((row_no, text[idx: idx + 100_000],
                        f"element is not valid JSON ({exc.args[0] if exc.args else exc}); the rest of the file "
                        "from here is kept as this one row"))
            break
        good.append((row_no, json.dumps(obj, ensure_ascii=False)))
        idx = end
    _flush_json(con, good)
    if bad:
        con.executemany("INSERT INTO raw_bad VALUES (?, ?, ?)", bad)


def _flush_json(con, good: list[tuple]) -> None:
    if not good:
        return
    _chunk = pa.table({"_row": pa.array([g[0] for g in good], pa.int64()),  # noqa: F841
                       "_json": pa.array([g[1] for g in good], pa.string())})
    con.execute("INSERT INTO raw SELECT * FROM _chunk")
    good.clear()


# -- Parquet ----------------------------------------------------------------------------------
def load_parquet(con, result: ReadResult) -> None:
    n = len(result.headers)
    _create_raw_tables(con, n)
    select = ", ".join(f"CAST(#{i + 1} AS VARCHAR)" for i in range(n))  # positional refs: no header text
    try:
        con.execute(f"INSERT INTO raw SELECT row_number() OVER () AS _row, {select} FROM read_parquet($p)",
                    {"p": str(result.path)})
    except duckdb.Error as exc:
        raise ReadError(f"{result.path.name}: Parquet file cannot be read: {str(exc).splitlines()[0]}") from None


def load(con, result: ReadResult, sheet: str | None = None) -> None:
    """Fill raw / raw_bad for the file described by `result` (from read_header)."""
    with tempfile.TemporaryDirectory(prefix="wb-ingest-") as tmp_dir:
        if result.file_format == "csv":
            load_csv(con, result, tmp_dir)
        elif result.file_format == "xlsx":
            load_xlsx(con, result, sheet)
        elif result.file_format == "parquet":
            load_parquet(con, result)
        else:
            load_json(con, result)


class BackgroundSha256:
    """file_sha256 on a worker thread, started at once; result() waits for it."""

    def __init__(self, path: Path):
        import threading

        self._path = Path(path)
        self._value: tuple[str, int] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(path,), name="ingest-sha256", daemon=True)
        self._thread.start()

    def _run(self, path: Path) -> None:
        try:
            self._value = file_sha256(path)
        except BaseException as exc:  # handed to the caller by result()
            self._error = exc

    def result(self, default=None) -> tuple[str, int]:
        self._thread.join()
        if self._error is not None:
            if default is not None:
                return default
            raise ReadError(f"{self._path.name}: cannot be read ({self._error})")
        return self._value


def file_sha256(path: Path) -> tuple[str, int]:
    import hashlib

    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while True:
            block = fh.read(1 << 22)
            if not block:
                break
            size += len(block)
            digest.update(block)
    return digest.hexdigest(), size


__all__ = ["ReadError", "ReadResult", "read_header", "load", "file_sha256", "cell_text"]
