"""Check a retailer's extract, or one filled-in referral, against Opal's requirements, row by row.

The file is read, staged and validated by ingest's own code (`workbench.ingest.pipeline.validated`: the same
formats, mappings, parsing and rules as `workbench ingest`), in temp tables only: nothing is written to the
store. On top of ingest's rules come Opal's requirements that ingest does not enforce (workbench/readiness/
rules.py: evidence reference, grading, threshold; queries/readiness/requirements.sql). The result says, per row,
what is missing or wrong in plain English with the rule id; a score (share of rows ready, commonest problems);
and a corrected template (the rows in the source's own layout, their problems, blank columns to fill).
"""
from __future__ import annotations

import csv
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from workbench import reference
from workbench.errors import WorkbenchError
from workbench.ingest import readers
from workbench.ingest.mapping import Mapping, load_mapping
from workbench.ingest.pipeline import resolve_source, validated
from workbench.readiness.rules import REQUIREMENTS, all_rules
from workbench.readiness.settings import readiness_settings
from workbench.store import Store
from workbench.textsafe import terminal_safe

MUST_FIX, CHECK = "must fix", "check"
VALUE_SHOWN = 60                       # characters of a given value quoted in a message
TEMPLATE_LEAD = ("_row", "_ready", "_reasons")   # _reasons is ignored by ingest when the file is sent back
_FIELD_WORDS = {"occurred_at": "incident date", "received_at": "referral date", "value_gbp": "value stolen",
                "offenders_count": "number of offenders", "dems_ref": "DEMS reference", "crime_number": "crime number",
                "force": "police force", "grading": "grading", "location": "location", "latitude": "coordinates"}


@dataclass
class ReadinessResult:
    file: str                      # the file's name (or "referral form")
    path: Path                     # the file checked (for a form: a private temp copy, kept while this lives)
    source: str                    # the source mapping's name
    source_arg: str | None         # what was passed as --source (a name or a mapping path), for a later ingest
    retailer: str                  # the retailer code (or the source name for force sources)
    headers: list[str]             # the file's columns as read
    rows: pd.DataFrame             # one row per data row: row, referral_ref, ready, must_fix, to_check, rules, problems
    problems: pd.DataFrame         # one row per problem: row, referral_ref, rule, severity, column, value, message
    file_problems: list[dict]      # about the file as a whole: {rule, message}
    template: pd.DataFrame         # the corrected template (see template_frame)
    score: dict = field(default_factory=dict)
    _keep: object = None           # a form's temp directory

    def to_dict(self) -> dict:
        """JSON-ready: the score, the file's problems and each row with its problems."""
        by_row = {r: g for r, g in self.problems.groupby("row")} if len(self.problems) else {}
        rows = []
        for r in self.rows.itertuples(index=False):
            g = by_row.get(r.row)
            rows.append({"row": int(r.row), "referral_ref": r.referral_ref, "ready": bool(r.ready),
                         "problems": [] if g is None else _records(g.drop(columns=["row", "referral_ref"]))})
        return {"file": self.file, "source": self.source, "retailer": self.retailer, "score": self.score,
                "file_problems": self.file_problems, "rows": rows}


def _records(frame: pd.DataFrame) -> list[dict]:
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")


def _shown(value) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = terminal_safe(str(value))
    return text if len(text) <= VALUE_SHOWN else text[:VALUE_SHOWN - 3] + "..."


def _column(mapping: Mapping, fld: str | None) -> str:
    """The source's own column for a canonical field (what the retailer sees), else the field in words."""
    if not fld:
        return "row"
    candidates = {"occurred_at": ("occurred_at", "occurred_date"), "location": ("store_ref", "postcode", "address"),
                  "latitude": ("latitude", "longitude"), "offender_dob": ("offender_dob", "offender_dobs")}
    for f in candidates.get(fld, (fld,)):
        header = mapping.header_for(f)
        if header:
            return header
    return _FIELD_WORDS.get(fld, fld.replace("_", " "))


def _message(rule_message: str, column: str, value: str | None) -> str:
    text = f"{column}: {rule_message}"
    return text + (f" (given: '{value}')" if value else "")


def _file_problems(mapping: Mapping, missing_columns: list[str]) -> list[dict]:
    out = []
    for what, fields in REQUIREMENTS.items():
        if not any(f in mapping.fields for f in fields):
            if what == "police force" and mapping.source_type == "retailer":
                continue  # a retailer row takes the store's force area (FORCE_FROM_STORE)
            out.append({"rule": "READY_COLUMN_UNMAPPED", "message": f"the {mapping.name} extract has no column for "
                        f"the {what}, which Opal needs: send it with the referral, or ask Opal to add the column to "
                        f"the source mapping"})
    for header in missing_columns:
        out.append({"rule": "READY_COLUMN_MISSING", "message": f"column '{terminal_safe(header)}' of source "
                    f"{mapping.name} is not in the file; the corrected template adds it, blank, to fill in"})
    return out


def _mapping_for(path: Path, source: str | None) -> Mapping:
    mapping = resolve_source(readers.read_header(path), source)
    if mapping.kind != "referrals":
        raise WorkbenchError(f"{path.name}: is a {mapping.kind.replace('_', ' ')} file (source {mapping.name}), not "
                             "referrals; the readiness check is for referrals")
    return mapping


def check_file(store: Store, path: str | Path, source: str | None = None, *,
               settings: dict | None = None) -> ReadinessResult:
    """Check every row of a referral extract (CSV, XLSX, JSON, JSON Lines or Parquet with a source mapping:
    detected from the header, or `source`) against ingest's rules and Opal's requirements. Writes nothing."""
    path = Path(path)
    if not path.is_file():
        raise WorkbenchError(f"{path}: no such file")
    s = settings or readiness_settings()
    rules = all_rules()
    mapping = _mapping_for(path, source)
    with validated(store, path, source) as v:
        n = int(store.query("readiness/row_count").rows.iloc[0])
        if n > s["max_rows"]:
            raise WorkbenchError(f"{path.name}: {n:,} rows is more than a readiness check shows (readiness max_rows "
                                 f"{s['max_rows']:,}); check it in parts, or count its problems with `workbench "
                                 "validate`")
        rows = store.query("readiness/rows")
        issues = pd.concat([
            store.query("readiness/ingest_issues"),
            store.query("readiness/requirements", min_value_gbp=float(s["min_value_gbp"]),
                        min_offenders=int(s["min_offenders"]), violence_meets=s["violence_meets"],
                        detained_meets=s["detained_meets"], require_evidence=s["require_evidence"],
                        require_grading=s["require_grading"])], ignore_index=True)
        raw = store.query("readiness/raw_cells")
        bad = store.query("readiness/raw_malformed")
        headers = list(v.read.headers)
        is_json = v.read.is_json
        missing = list(v.info.missing_columns)
    problems = _problems(issues, rows, mapping, rules)
    per_row = _per_row(rows, problems)
    result = ReadinessResult(
        file=path.name, path=path, source=mapping.name, source_arg=source, retailer=mapping.retailer or mapping.name,
        headers=headers, rows=per_row, problems=problems, file_problems=_file_problems(mapping, missing),
        template=pd.DataFrame())
    result.template = template_frame(result, mapping, raw, bad, rows, is_json, missing)
    result.score = _score(result, s["top_problems"], rules)
    return result


def _problems(issues: pd.DataFrame, rows: pd.DataFrame, mapping: Mapping, rules) -> pd.DataFrame:
    refs = dict(zip(rows.row_number, rows.referral_ref))
    out = []
    seen = set()
    for i in issues.itertuples(index=False):
        rule = rules.get(i.rule)
        if rule is None:      # a rule only the load decides (never predicted here)
            continue
        fld = None if pd.isna(i.field) else i.field
        key = (int(i.row_number), i.rule, fld)
        if key in seen:
            continue
        seen.add(key)
        column = _column(mapping, fld)
        value = None if i.rule.endswith("_MISSING") else _shown(i.value)
        message = _message(rule.message, terminal_safe(column), value)
        if i.rule == "FORCE_FROM_STORE":  # the value is the store's force code: say which force that is
            value = _force_name(str(i.value)) if isinstance(i.value, str) else None
            message = _message(rule.message, terminal_safe(column), None) + (f" ({value})" if value else "")
        out.append({"row": int(i.row_number), "referral_ref": refs.get(i.row_number), "rule": i.rule,
                    "severity": MUST_FIX if rule.severity == "error" else CHECK, "column": terminal_safe(column),
                    "value": value, "message": message})
    frame = pd.DataFrame(out, columns=["row", "referral_ref", "rule", "severity", "column", "value", "message"])
    order = {MUST_FIX: 0, CHECK: 1}
    if len(frame):
        frame = frame.assign(_o=frame.severity.map(order)).sort_values(["row", "_o", "rule"], kind="stable")
        frame = frame.drop(columns="_o").reset_index(drop=True)
    return frame


def _per_row(rows: pd.DataFrame, problems: pd.DataFrame) -> pd.DataFrame:
    out = []
    groups = {r: g for r, g in problems.groupby("row")} if len(problems) else {}
    for r in rows.itertuples(index=False):
        g = groups.get(r.row_number)
        must = [] if g is None else g[g.severity == MUST_FIX]
        check = [] if g is None else g[g.severity == CHECK]
        out.append({"row": int(r.row_number), "referral_ref": r.referral_ref, "ready": len(must) == 0,
                    "must_fix": len(must), "to_check": len(check),
                    "rules": "" if g is None else ", ".join(dict.fromkeys(g.rule)),
                    "problems": "" if g is None else " | ".join(g.message)})
    return pd.DataFrame(out, columns=["row", "referral_ref", "ready", "must_fix", "to_check", "rules", "problems"])


def _score(result: ReadinessResult, top: int, rules) -> dict:
    n = len(result.rows)
    ready = int(result.rows.ready.sum()) if n else 0
    p = result.problems
    must = p[p.severity == MUST_FIX] if len(p) else p
    counts = (must.drop_duplicates(["row", "rule"]).groupby("rule").size().sort_values(ascending=False, kind="stable")
              if len(must) else pd.Series(dtype=int))
    tops = [{"rule": code, "rows": int(c), "message": rules[code].message} for code, c in counts.head(top).items()]
    return {"source": result.source, "retailer": result.retailer, "file": result.file, "rows": n, "ready": ready,
            "not_ready": n - ready, "share_ready": round(ready / n, 4) if n else None,
            "percent_ready": round(100 * ready / n, 1) if n else None, "top_problems": tops,
            "file_problems": len(result.file_problems)}


def score_table(results) -> pd.DataFrame:
    """One row per retailer over several checked files: rows, ready, share ready and the commonest problems."""
    out = {}
    for r in results:
        agg = out.setdefault(r.retailer, {"retailer": r.retailer, "sources": set(), "files": 0, "rows": 0, "ready": 0,
                                          "rules": {}})
        agg["sources"].add(r.source)
        agg["files"] += 1
        agg["rows"] += r.score["rows"]
        agg["ready"] += r.score["ready"]
        p = r.problems
        if len(p):
            for code, c in p[p.severity == MUST_FIX].drop_duplicates(["row", "rule"]).groupby("rule").size().items():
                agg["rules"][code] = agg["rules"].get(code, 0) + int(c)
    rows = []
    for agg in out.values():
        top = sorted(agg["rules"].items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        rows.append({"retailer": agg["retailer"], "sources": ", ".join(sorted(agg["sources"])), "files": agg["files"],
                     "rows": agg["rows"], "ready": agg["ready"],
                     "share_ready": round(agg["ready"] / agg["rows"], 4) if agg["rows"] else None,
                     "top_problems": ", ".join(f"{c} ({n})" for c, n in top)})
    return pd.DataFrame(rows, columns=["retailer", "sources", "files", "rows", "ready", "share_ready", "top_problems"])


def _force_name(code: str) -> str:
    names = dict(zip(reference.forces().force_code, reference.forces().name))
    return names.get(code, code)


# -- the corrected template ----------------------------------------------------------------------------
def template_frame(result: ReadinessResult, mapping: Mapping, raw: pd.DataFrame, bad: pd.DataFrame,
                   rows: pd.DataFrame, is_json: bool, missing: list[str]) -> pd.DataFrame:
    """The rows in the source's own layout (cells as read, text), led by _row, _ready and _reasons (every
    problem in plain English with its rule id), plus the mapped columns the file lacks, blank to fill in. A blank
    police force the store's area supplies is filled in (and said so in _reasons)."""
    columns = list(TEMPLATE_LEAD) + [h for h in result.headers if h not in TEMPLATE_LEAD and h != "_quarantine_id"]
    columns += [h for h in missing if h not in columns]
    cells: dict[int, dict] = {}
    if is_json:
        for r in raw.itertuples(index=False):
            try:
                obj = json.loads(r._json) if isinstance(r._json, str) else {}
            except ValueError:
                obj = {}
            obj = obj if isinstance(obj, dict) else {}
            cells[int(r._row)] = {h: (json.dumps(obj[h], ensure_ascii=False) if isinstance(obj.get(h), (dict, list))
                                      else obj.get(h)) for h in result.headers if h in obj}
    else:
        names = {f"c{i}": h for i, h in enumerate(result.headers)}
        for rec in raw.to_dict(orient="records"):
            cells[int(rec["_row"])] = {names[k]: val for k, val in rec.items() if k in names}
    reasons = {r: [f"{m} [{rule}]" for m, rule in zip(g.message, g.rule)]
               for r, g in result.problems.groupby("row")} if len(result.problems) else {}
    ready = dict(zip(result.rows.row, result.rows.ready))
    force_header = mapping.header_for("force")
    filled = {}
    if force_header and len(result.problems):
        p = result.problems
        for r in p[p.rule == "FORCE_FROM_STORE"].row:
            code = rows.loc[rows.row_number == r, "force_code"]
            if len(code) and isinstance(code.iloc[0], str):
                filled[int(r)] = _force_name(code.iloc[0])
    lines = dict(zip(bad._row, bad.raw)) if len(bad) else {}
    out = []
    for r in sorted(set(cells) | set(lines) | set(ready)):
        rec = {c: None for c in columns}
        rec.update(cells.get(r, {}))
        why = list(reasons.get(r, []))
        if r in filled:
            rec[force_header] = filled[r]
            why.append(f"{force_header}: filled in from the store's police force area ({filled[r]}); check it")
        if r in lines:
            why.append(f"the line as read: {str(lines[r])[:500]}")
        rec.update({"_row": r, "_ready": "yes" if ready.get(r) else "no", "_reasons": " | ".join(why)})
        out.append(rec)
    return pd.DataFrame(out, columns=columns).astype(object)


# -- a single filled-in referral --------------------------------------------------------------------------
def _norm(text: str) -> str:
    return " ".join(str(text).lower().split())


def check_referral(store: Store, values: dict, source: str, *, settings: dict | None = None) -> ReadinessResult:
    """Check one referral given as {column: value} in a source's own columns (e.g. retailer_brightmart's
    'crime_ref', 'police_force', ...): written to a private one-row file and checked like any extract."""
    mapping = load_mapping(source)
    if mapping.kind != "referrals":
        raise WorkbenchError(f"source {mapping.name} is not a referral source")
    if mapping.shape == "nested":
        raise WorkbenchError(f"source {mapping.name} nests offenders and evidence in JSON objects; check its files "
                             "with check_file, not one referral by its columns")
    by_norm = {_norm(h): h for h in mapping.columns}
    unknown = [k for k in values if _norm(k) not in by_norm]
    if unknown:
        raise WorkbenchError(f"referral: {terminal_safe(str(unknown[0]))[:60]!r} is not a column of source "
                             f"{mapping.name} (its columns: {', '.join(list(mapping.columns)[:8])}, ...)")
    given = {by_norm[_norm(k)]: ("" if v is None else str(v)) for k, v in values.items()}
    if not any(v.strip() for v in given.values()):
        raise WorkbenchError("referral: every field is empty; fill in the form first")
    keep = tempfile.TemporaryDirectory(prefix="wb-readiness-")
    headers = list(mapping.columns)
    if mapping.format in ("json", "jsonl"):
        path = Path(keep.name) / "form_referral.jsonl"
        path.write_text(json.dumps({h: given[h] for h in headers if given.get(h, "").strip()}, ensure_ascii=False)
                        + "\n", encoding="utf-8")
    else:
        path = Path(keep.name) / "form_referral.csv"
        with open(path, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(headers)
            writer.writerow([given.get(h, "") for h in headers])
    try:
        result = check_file(store, path, source, settings=settings)
    except BaseException:
        keep.cleanup()
        raise
    result.file = "referral form"
    result._keep = keep
    return result
