"""Turn each month of world incidents into referral extract rows, with noise, and record the truth.

Every source writes in its own format (workbench.sample.formats); each written person or vehicle
mention is recorded in the ground truth with the file, the row and the noise applied, so tests and
benchmarks can score linkage and check noise rates. The library never reads the ground truth.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from workbench.reference import forces as force_table
from workbench.sample import vocab
from workbench.sample.formats import SourceFormat

XLSX_MAX_ROWS = 500_000
FIXED_TIMESTAMP = datetime(2026, 1, 1)
CONFUSABLE = {"O": "0", "0": "O", "I": "1", "1": "I", "S": "5", "5": "S", "B": "8", "8": "B"}
NAME_STYLE = {"force_met": "surname_first", "retailer_cornerway": "upper"}
FORCE_STYLE = {  # how each source writes the force: name | police | alias | code
    "retailer_brightmart": "police", "retailer_harvest": "name", "retailer_pillbox": "alias",
    "retailer_glow": "police", "retailer_valueden": "name", "retailer_cornerway": "code",
    "retailer_fithaus": "police", "retailer_tekno": "name", "retailer_buildright": "police",
    "retailer_cellar": "alias", "retailer_threadline": "name", "retailer_nestling": "police",
    "force_opal_form": "code", "force_met": "name", "force_wmp": "name",
}
DESCRIPTIONS = ("slim build, dark hoodie", "stocky, grey tracksuit", "tall, black puffer jacket",
                "medium build, cap and face covering", "short, red jacket", "heavy build, tattoos on hands",
                "thin, blue jeans, white trainers", "beard, dark clothing", "long hair tied back, large bag")
TACTIC_TEXT = {  # free text a person would type for a tactic code
    "FOIL": ("foil lined bag", "booster bag", "foil bag"), "DIST": ("distraction", "distracted staff"),
    "RUSH": ("gang rush", "steaming"), "SWEEP": ("shelf sweep", "cleared shelf"),
    "REFUND": ("refund fraud", "return fraud"), "SCO": ("self checkout abuse", "barcode swap"),
    "TAGREM": ("tag removal", "cut tags"), "PUSHOUT": ("trolley push out", "push out"),
    "CONCEAL": ("concealment", "concealed in clothing", "hid items"), "VEHICLE": ("getaway car", "drove off"),
    "RAZOR": ("razors", "razor blades"), "COSMET": ("perfume", "cosmetics", "make up"),
    "ALCOHOL": ("spirits", "alcohol", "whisky"), "FORMULA": ("baby formula", "formula milk"),
    "MEAT": ("meat", "steaks"), "ELEC": ("headphones", "electronics"), "CLOTH": ("trainers", "designer clothing"),
    "TOOLS": ("power tools", "drills"), "CONFEC": ("coffee", "chocolate"),
    "THREAT": ("threatened staff", "verbal abuse"), "VIOL": ("assaulted staff", "pushed staff"),
    "WEAPON": ("knife", "syringe"),
}


# ----------------------------------------------------------------------------- noise
def misspell(word: str, rng: np.random.Generator) -> str:
    if len(word) < 3:
        return word + word[-1]
    i = int(rng.integers(1, len(word) - 1))
    op = int(rng.integers(4))
    if op == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if op == 1:
        return word[:i] + word[i + 1:]
    if op == 2:
        return word[:i] + word[i] + word[i:]
    vowels = "aeiou"
    return word[:i] + vowels[int(rng.integers(5))] + word[i + 1:]


def written_name(forename: str, surname: str, style: str, rng, rates) -> tuple[str, list[str]]:
    flags = []
    if rng.random() < rates["name_alias"] and forename in vocab.NICKNAMES:
        forename = vocab.NICKNAMES[forename]
        flags.append("name_alias")
    if rng.random() < rates["name_misspelt"]:
        if rng.random() < 0.7:
            surname = misspell(surname, rng)
        else:
            forename = misspell(forename, rng)
        flags.append("name_misspelt")
    if style == "surname_first":
        return f"{surname.upper()}, {forename}", flags
    if style == "upper":
        return f"{forename} {surname}".upper(), flags
    return f"{forename} {surname}", flags


def written_dob(dob, fmt: str, rng, rates) -> tuple[str, list[str]]:
    if rng.random() < rates["dob_omitted"]:
        return "", ["dob_omitted"]
    if dob.day <= 12 and dob.day != dob.month and rng.random() < rates["dob_day_month_swapped"]:
        return dob.replace(day=dob.month, month=dob.day).strftime(fmt), ["dob_day_month_swapped"]
    return dob.strftime(fmt), []


def written_vrm(vrm: str, rng, rates) -> tuple[str, list[str]]:
    flags, text = [], vrm
    if rng.random() < rates["vrm_misread"]:
        positions = [i for i, c in enumerate(text) if c in CONFUSABLE]
        if positions:
            i = positions[int(rng.integers(len(positions)))]
            text = text[:i] + CONFUSABLE[text[i]] + text[i + 1:]
            flags.append("vrm_misread")
    if rng.random() < rates["vrm_partial"]:
        text = text[: int(rng.integers(3, 6))].rstrip()
        flags.append("vrm_partial")
    style = int(rng.integers(3))
    if style == 1:
        text = text.replace(" ", "")
    elif style == 2:
        text = text.lower()
    return text, flags


def written_crime_number(number: str, rng, rates) -> tuple[str, list[str]]:
    if rng.random() >= rates["crime_number_reformatted"]:
        return number, []
    style = int(rng.integers(3))
    if style == 0:
        return number.lower(), ["crime_number_reformatted"]
    if style == 1:
        return number.replace("/", " ").replace("-", " "), ["crime_number_reformatted"]
    return f" {number} ", ["crime_number_reformatted"]


def malformed_postcode(postcode: str, rng) -> str:
    style = int(rng.integers(3))
    if style == 0:
        return postcode.replace(" ", "")[:-1]
    if style == 1:
        return postcode[::-1]
    return postcode.replace(" ", "  ") + "X"


# ----------------------------------------------------------------------------- force naming
class ForceNamer:
    def __init__(self):
        table = force_table().set_index("force_code")
        self.names = table["name"].to_dict()
        self.aliases = {c: [a for a in str(v).split("|") if a] for c, v in table["aliases"].items()}
        self.codes = sorted(c for c in self.names if c.isdigit())

    def write(self, code: str, style: str, rng) -> str:
        if style == "code":
            return code
        if style == "alias" and self.aliases.get(code):
            return self.aliases[code][int(rng.integers(len(self.aliases[code])))]
        if style == "police":
            return self.aliases[code][0] if self.aliases.get(code) else self.names[code]
        return self.names[code]

    def neighbour(self, code: str, rng) -> str:
        others = [c for c in self.codes if c != code]
        return others[int(rng.integers(len(others)))]


# ----------------------------------------------------------------------------- crime numbers
def crime_number(force_code: str, serial: int, when: datetime) -> str:
    style = vocab.CRIME_NUMBER_STYLES[int(force_code) % len(vocab.CRIME_NUMBER_STYLES)] \
        if force_code.isdigit() else vocab.CRIME_NUMBER_STYLES[0]
    abbr = f"F{force_code}"
    return style.format(cjs=force_code, serial=serial, yy=when.strftime("%y"), yyyy=when.year, abbr=abbr)


# ----------------------------------------------------------------------------- file writers
class ExtractWriter:
    """Appends rows to one source's file(s), keeping the 1-based data row number."""

    def __init__(self, fmt: SourceFormat, out_dir: Path):
        self.fmt = fmt
        self.out_dir = out_dir
        self.headers = [h for h, _ in fmt.columns]
        self.rows_written = 0
        self.part = 0
        self.part_rows = 0
        self.files: list[str] = []
        self._fh = None
        self._book = None
        self._sheet = None
        self._json_first = True

    # a current file name, for the ground truth
    @property
    def current_file(self) -> str:
        return self.files[-1] if self.files else self._file_name(1)

    def _file_name(self, part: int) -> str:
        if self.fmt.file_type == "xlsx" and part > 1:
            return f"{self.fmt.file_stem}_part{part:02d}.xlsx"
        return self.fmt.file_name

    def open(self) -> None:
        self.part += 1
        self.part_rows = 0
        name = self._file_name(self.part)
        self.files.append(name)
        path = self.out_dir / name
        t = self.fmt.file_type
        if t == "xlsx":
            import xlsxwriter

            self._book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                                         "strings_to_urls": False, "strings_to_numbers": False})
            self._book.set_properties({"created": FIXED_TIMESTAMP, "author": "Pegasus synthetic world"})
            self._sheet = self._book.add_worksheet("Referrals")
            self._date_format = self._book.add_format({"num_format": "dd/mm/yyyy hh:mm"})
            self._day_format = self._book.add_format({"num_format": "dd/mm/yyyy"})
            self._sheet.write_row(0, 0, self.headers)
        else:
            self._fh = open(path, "w", encoding=self.fmt.encoding, newline="", errors="strict")
            if t == "csv":
                self._fh.write(self.fmt.delimiter.join(self.headers) + self.fmt.line_terminator)
            elif t == "json":
                self._fh.write("[\n")

    def write(self, frame: pd.DataFrame) -> list[tuple[str, int]]:
        """Write rows (columns = headers) and return (file, row number) for each."""
        if self.part == 0:
            self.open()
        located = []
        t = self.fmt.file_type
        if t == "xlsx":
            start = 0
            while start < len(frame):
                if self.part_rows >= XLSX_MAX_ROWS:
                    self._book.close()
                    self.open()
                take = min(len(frame) - start, XLSX_MAX_ROWS - self.part_rows)
                for row in frame.iloc[start:start + take].itertuples(index=False):
                    self.part_rows += 1
                    for col, value in enumerate(row):
                        self._write_cell(self.part_rows, col, value)
                    located.append((self.current_file, self.part_rows))
                start += take
        else:
            if t == "csv":
                frame.to_csv(self._fh, header=False, index=False, sep=self.fmt.delimiter,
                             lineterminator=self.fmt.line_terminator)
            elif t == "jsonl":
                for record in frame.to_dict(orient="records"):
                    self._fh.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
            elif t == "json":
                for record in frame.to_dict(orient="records"):
                    self._fh.write(("" if self._json_first else ",\n")
                                   + json.dumps(record, ensure_ascii=False, default=str))
                    self._json_first = False
            located = [(self.current_file, self.part_rows + i + 1) for i in range(len(frame))]
            self.part_rows += len(frame)
        self.rows_written += len(frame)
        return located

    def _write_cell(self, row: int, col: int, value) -> None:
        if isinstance(value, (pd.Timestamp, datetime)):
            self._sheet.write_datetime(row, col, value.to_pydatetime() if isinstance(value, pd.Timestamp) else value,
                                       self._date_format)
        elif value is None or (isinstance(value, float) and np.isnan(value)):
            self._sheet.write_blank(row, col, None)
        elif isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
            self._sheet.write_number(row, col, float(value))
        else:
            self._sheet.write_string(row, col, str(value))

    def close(self) -> None:
        if self.part == 0:
            self.open()  # an empty source still gets a file with its header
        if self._book is not None:
            self._book.close()
        if self._fh is not None:
            if self.fmt.file_type == "json":
                self._fh.write("\n]\n")
            self._fh.close()


class TruthWriter:
    """Streams ground-truth tables to parquet, one file per table."""

    SCHEMAS = {
        "incidents": pa.schema([("world_incident_id", pa.int64()), ("store_id", pa.string()),
                                ("occurred_at", pa.timestamp("us")), ("kind", pa.string()),
                                ("group_id", pa.string()), ("run_id", pa.string()), ("run_order", pa.int64()),
                                ("run_stop", pa.string()), ("cctv_only", pa.bool_()), ("force_code", pa.string()),
                                ("violence", pa.bool_()), ("offenders_count", pa.int64()), ("tactics", pa.string()),
                                ("value_gbp", pa.float64()),
                                ("crime_number", pa.string()), ("offender_ids", pa.string()),
                                ("vehicle_id", pa.string()), ("retailer_reported", pa.bool_()),
                                ("force_source", pa.string())]),
        "referral_rows": pa.schema([("source_name", pa.string()), ("file_name", pa.string()),
                                    ("row_number", pa.int64()), ("world_incident_id", pa.int64()),
                                    ("referral_ref", pa.string()), ("resubmission", pa.bool_()),
                                    ("noise", pa.string())]),
        "person_mentions": pa.schema([("source_name", pa.string()), ("file_name", pa.string()),
                                      ("row_number", pa.int64()), ("world_incident_id", pa.int64()),
                                      ("position", pa.int64()), ("person_id", pa.string()),
                                      ("written_name", pa.string()), ("written_dob", pa.string()),
                                      ("true_forename", pa.string()), ("true_surname", pa.string()),
                                      ("true_dob", pa.date32()), ("noise", pa.string())]),
        "vehicle_mentions": pa.schema([("source_name", pa.string()), ("file_name", pa.string()),
                                       ("row_number", pa.int64()), ("world_incident_id", pa.int64()),
                                       ("vehicle_id", pa.string()), ("written_vrm", pa.string()),
                                       ("true_vrm", pa.string()), ("noise", pa.string())]),
        "persons": pa.schema([("person_id", pa.string()), ("forename", pa.string()), ("surname", pa.string()),
                              ("dob", pa.date32()), ("gender", pa.string()), ("kind", pa.string()),
                              ("group_id", pa.string())]),
    }

    def __init__(self, out_dir: Path):
        self.out_dir = out_dir
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.counts: dict[str, int] = {}

    def append(self, table: str, rows: pd.DataFrame | list[dict]) -> None:
        frame = pd.DataFrame(rows) if isinstance(rows, list) else rows
        schema = self.SCHEMAS[table]
        if frame.empty:
            return
        arrow = pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)
        if table not in self.writers:
            self.writers[table] = pq.ParquetWriter(self.out_dir / f"{table}.parquet", schema,
                                                   compression="zstd")
        self.writers[table].write_table(arrow)
        self.counts[table] = self.counts.get(table, 0) + len(frame)

    def close(self) -> None:
        for table, schema in self.SCHEMAS.items():
            if table not in self.writers:
                pq.write_table(schema.empty_table(), self.out_dir / f"{table}.parquet")
        for writer in self.writers.values():
            writer.close()
