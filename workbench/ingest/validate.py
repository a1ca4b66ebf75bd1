"""Staging and validation, in DuckDB SQL over the raw temp table (vectorised, multi-threaded).

stage()    raw -> stg: one row per source row, every canonical field as text (NULL when absent),
           built from the mapping (renames, value maps, defaults, nested JSON objects).
validate() stg -> v: parsed values (timestamps, numbers, booleans, force codes, store ids, locations)
           plus `issues`, a list of {code, field, value} per row. Rows with an error-severity issue,
           and the other rows of their referral, are quarantined; warnings are stored as flags.

All identifiers in the SQL are generated here (c0, c1, ... and canonical field names); every value
from a file or a mapping is bound as a parameter, or, in the two views (which cannot hold parameters),
inlined by _inline in one pass as a quoted literal; generated SQL runs only as exactly one statement.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from workbench import config, reference
from workbench.errors import WorkbenchError
from workbench.ingest import rules as rules_mod
from workbench.ingest.mapping import NESTED_FIELDS, Mapping, FIELDS_BY_KIND, REFERRAL_FIELDS
from workbench.ingest.readers import ReadResult, drop_temp_relation

ISO_DATETIME = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%SZ",
                "%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%S.%f")
ISO_DATE = ("%Y-%m-%d",)
TEXT_FIELDS = ("referral_ref", "referrer", "incident_ref", "store_ref", "store_name", "address", "crime_number",
               "narrative", "offender_names", "offender_name", "offender_description", "tactics", "vrm",
               "vehicle_make", "vehicle_colour", "dems_ref", "handling_conditions")
FORMULA_RE = r"^\s*(?:=|[+\-@]\s*[A-Za-z_][A-Za-z0-9_.]*\s*\()"
MARKUP_RE = r"(?i)(?:<\s*/?\s*(?:script|iframe|img|svg|object|embed|style|a)\b|javascript:|\bon[a-z]+\s*=)"
POSTCODE_RE = r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][ABD-HJLNP-UW-Z]{2}$"
GB_BOX = {"lat_min": 49.8, "lat_max": 60.95, "lon_min": -8.7, "lon_max": 1.8}
SPECIAL_COLUMNS = ("_quarantine_id", "_reasons")


def _norm_header(text: str) -> str:
    return " ".join(str(text).lower().split())


@dataclass
class StageInfo:
    missing_columns: list[str] = field(default_factory=list)
    unmapped_columns: list[str] = field(default_factory=list)
    has_qid: bool = False
    absent_fields: list[str] = field(default_factory=list)  # canonical fields that are NULL in every row


class Params:
    """Collects bound parameters, handing back $names for the SQL text."""

    def __init__(self):
        self.values: dict = {}

    def add(self, value) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"${name}"

    def bind(self, sql: str) -> dict:
        used = set(re.findall(r"\$(p\d+)", sql))
        return {k: v for k, v in self.values.items() if k in used}


def json_key_path(key: str, suffix: str = "") -> str:
    """A JSON path naming one top-level key of any text (backslashes and quotes escaped), for a bound parameter."""
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"' + suffix


def _fields(mapping: Mapping) -> tuple[str, ...]:
    return FIELDS_BY_KIND[mapping.kind]


def stage(con, mapping: Mapping, read: ReadResult) -> StageInfo:
    """Create temp table stg (_row, _qid, canonical fields...) from raw."""
    info = StageInfo()
    p = Params()
    exprs: dict[str, str] = {}
    if read.is_json:
        present = {_norm_header(k) for k in read.headers}
        for header, target in mapping.columns.items():
            key = p.add(json_key_path(header))
            if target in NESTED_FIELDS:
                exprs[target] = f"nullif(json_extract(_json, {key})::VARCHAR, 'null')"
            else:
                arr = p.add(json_key_path(header, "[*]"))
                sep = p.add(mapping.multi_sep)
                exprs[target] = (f"nullif(trim(CASE WHEN json_type(_json, {key}) = 'ARRAY' THEN "
                                 f"array_to_string(json_extract_string(_json, {arr}), {sep}) "
                                 f"ELSE json_extract_string(_json, {key}) END), '')")
            if _norm_header(header) not in present:
                info.missing_columns.append(header)
        info.has_qid = "_quarantine_id" in present
        qid_expr = "try_cast(json_extract_string(_json, '$._quarantine_id') AS BIGINT)" if info.has_qid else "NULL"
    else:
        by_norm = {_norm_header(h): f"c{i}" for i, h in enumerate(read.headers)}
        mapped_norm = {_norm_header(h) for h in mapping.columns}
        for header, target in mapping.columns.items():
            col = by_norm.get(_norm_header(header))
            if col is None:
                info.missing_columns.append(header)
                continue
            # trim only values that need it: DuckDB's Unicode-aware trim is slow on millions of cells
            exprs[target] = (f"CASE WHEN starts_with({col}, ' ') OR ends_with({col}, ' ') THEN nullif(trim({col}), '')"
                             f" ELSE nullif({col}, '') END")
        info.unmapped_columns = [h for h in read.headers
                                 if _norm_header(h) not in mapped_norm and h not in SPECIAL_COLUMNS]
        qcol = by_norm.get("_quarantine_id")
        info.has_qid = qcol is not None
        qid_expr = f"try_cast({qcol} AS BIGINT)" if qcol else "NULL"
    required = [h for h in mapping.required_columns if h in info.missing_columns]
    if required:
        raise WorkbenchError(f"{read.path.name}: required column(s) {', '.join(map(repr, required))} of source "
                             f"{mapping.name} are missing from the header")
    mapped_count = len(mapping.columns)
    if mapped_count and len(info.missing_columns) * 2 > mapped_count:
        raise WorkbenchError(
            f"{read.path.name}: does not look like source {mapping.name}: {len(info.missing_columns)} of its "
            f"{mapped_count} columns are missing ({', '.join(info.missing_columns[:6])}"
            f"{', ...' if len(info.missing_columns) > 6 else ''})")
    # value maps and defaults
    vmap_rows = [(fld, src, dst) for fld, m in mapping.value_maps.items() for src, dst in m.items()]
    con.execute("DROP TABLE IF EXISTS vmap")
    con.execute("CREATE TEMP TABLE vmap (field VARCHAR, src VARCHAR, dst VARCHAR)")
    if vmap_rows:
        con.executemany("INSERT INTO vmap VALUES (?, ?, ?)", vmap_rows)
    if not read.is_json:  # (JSON referral fields may still be filled from nested objects)
        info.absent_fields = [f for f in _fields(mapping) if f not in exprs and f not in mapping.defaults]
    selects = []
    for fld in _fields(mapping):
        expr = exprs.get(fld, "NULL::VARCHAR")
        if fld in mapping.value_maps and fld in exprs:
            fp = p.add(fld)
            expr = (f"coalesce((SELECT dst FROM vmap WHERE vmap.field = {fp} AND vmap.src = lower({expr})), {expr})")
        if fld in mapping.defaults:
            expr = f"coalesce({expr}, {p.add(mapping.defaults[fld])})"
        selects.append(f"{expr} AS {fld}")
    # a view: its expressions are evaluated once, inside the validation query that reads every row
    view = "stg0" if (mapping.kind == "referrals" and read.is_json) else "stg"
    con.execute("DROP VIEW IF EXISTS stg0")
    con.execute("DROP VIEW IF EXISTS stg")
    con.execute("DROP TABLE IF EXISTS stg")
    sql = (f"CREATE TEMP VIEW {view} AS SELECT _row, {qid_expr} AS _qid, " + ", ".join(selects) + " FROM raw")
    execute_one(con, _inline(sql, p.bind(sql)))
    if view == "stg0":
        _expand_nested(con, mapping)
    return info


def _inline_params(params: dict) -> dict:
    """Lists of strings (format lists) as SQL list literals for _inline."""
    out = {}
    for k, v in params.items():
        if isinstance(v, list) and all(isinstance(x, str) for x in v):
            out[k] = _ListLiteral("[" + ", ".join(_literal(x) for x in v) + "]")
        elif hasattr(v, "isoformat"):
            out[k] = _ListLiteral("TIMESTAMP " + _literal(v.isoformat(sep=" ")))
        else:
            out[k] = v
    return out


class _ListLiteral(str):
    pass


_PARAM_RE = re.compile(r"\$(p\d+)(?![A-Za-z0-9_])")


def _literal(value) -> str:
    if isinstance(value, _ListLiteral):
        return str(value)
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("cannot inline a NUL character")
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value)
    raise TypeError(f"cannot inline parameter of type {type(value).__name__}")


def _inline(sql: str, params: dict) -> str:
    """Views cannot hold prepared parameters: inline them as SQL string literals (quotes doubled).

    One pass over the generated SQL text: every $pN outside a quoted literal or identifier is replaced by its
    literal, and the text of an inserted literal is never scanned again (so a value holding "$p1" stays data).
    A $pN without a value is an error (KeyError), never left in place."""
    out, i, n = [], 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in ("'", '"'):  # copy a quoted literal or identifier of the generated SQL unchanged
            j = i + 1
            while j < n:
                if sql[j] == ch:
                    if j + 1 < n and sql[j + 1] == ch:
                        j += 2
                        continue
                    break
                j += 1
            out.append(sql[i:j + 1])
            i = j + 1
            continue
        if ch == "$":
            m = _PARAM_RE.match(sql, i)
            if m:
                out.append(_literal(params[m.group(1)]))
                i = m.end()
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def execute_one(con, sql: str, params: dict | None = None):
    """Run generated SQL only if it is exactly one statement (defence in depth against text reaching SQL)."""
    statements = con.extract_statements(sql)
    if len(statements) != 1:
        raise WorkbenchError(f"refused to run generated SQL that is not exactly one statement "
                             f"({len(statements)} found); this is a bug or a hostile source mapping")
    return con.execute(sql, params) if params else con.execute(sql)


def _expand_nested(con, mapping: Mapping) -> None:
    """Fill location and grading fields from the nested objects of the national referral form."""
    p = Params()
    loc = mapping.nested_keys["location"]
    grd = mapping.nested_keys["grading_object"]
    over = {}
    for fld in ("store_name", "address", "postcode", "latitude", "longitude"):
        over[fld] = f"coalesce({fld}, nullif(trim(json_extract_string(location, {p.add('$.' + loc[fld])})), ''))"
    for fld in ("source_evaluation", "intelligence_assessment", "handling_code", "handling_conditions"):
        over[fld] = (f"coalesce({fld}, nullif(trim(json_extract_string(grading_object, "
                     f"{p.add('$.' + grd[fld])})), ''))")
    over["offenders_count"] = ("coalesce(offenders_count, CASE WHEN json_type(offenders) = 'ARRAY' THEN "
                               "json_array_length(offenders)::VARCHAR END)")
    cols = [f"{over[f]} AS {f}" if f in over else f for f in REFERRAL_FIELDS]
    sql = "CREATE TEMP TABLE stg AS SELECT _row, _qid, " + ", ".join(cols) + " FROM stg0"
    execute_one(con, sql, p.bind(sql))
    con.execute("DROP VIEW stg0")


# -- helpers for validation ----------------------------------------------------------------------
def _formats(primary: tuple[str, ...], iso: tuple[str, ...]) -> list[str]:
    out = list(primary)
    for f in iso:
        if f not in out:
            out.append(f)
    return out


def _force_map(con, column: str = "force") -> None:
    values = [r[0] for r in con.execute(f"SELECT DISTINCT {column} FROM stg WHERE {column} IS NOT NULL").fetchall()]
    frame = pd.DataFrame({"raw": values, "force_code": [reference.resolve_force(v) for v in values]},
                         columns=["raw", "force_code"]).astype(object)
    con.execute("DROP TABLE IF EXISTS fmap")
    con.register("_fmap_df", frame)
    con.execute("CREATE TEMP TABLE fmap AS SELECT raw::VARCHAR AS raw, force_code::VARCHAR AS force_code FROM _fmap_df")
    con.unregister("_fmap_df")


def _bool(p: Params, mapping: Mapping, col: str) -> str:
    t = p.add(sorted(set(mapping.true_values) | {"y", "yes", "true", "1"}))
    f = p.add(sorted(set(mapping.false_values) | {"n", "no", "false", "0"}))
    return (f"CASE WHEN list_contains({t}, lower({col})) THEN TRUE "
            f"WHEN list_contains({f}, lower({col})) THEN FALSE END")


def _bool_bad(p: Params, mapping: Mapping, col: str) -> str:
    t = p.add(sorted(set(mapping.true_values) | {"y", "yes", "true", "1", "n", "no", "false", "0"}
                     | set(mapping.false_values)))
    return f"({col} IS NOT NULL AND NOT list_contains({t}, lower({col})))"


def _in_gb(lat: str, lon: str) -> str:
    b = GB_BOX
    return f"({lat} BETWEEN {b['lat_min']} AND {b['lat_max']} AND {lon} BETWEEN {b['lon_min']} AND {b['lon_max']})"


def haversine_m(lat1: str, lon1: str, lat2: str, lon2: str) -> str:
    return (f"(2 * 6371000 * asin(sqrt(pow(sin(radians({lat2} - {lat1}) / 2), 2) + cos(radians({lat1})) * "
            f"cos(radians({lat2})) * pow(sin(radians({lon2} - {lon1}) / 2), 2))))")


class Issue(str):
    """SQL for one rule's issue struct (NULL when the rule passes), remembering its rule, field, condition and the
    struct itself (`struct`: what the issue holds when the rule fires, from the row's columns)."""
    code: str
    field: str | None
    cond: str
    struct: str


def _issue(code: str, fld: str | None, cond: str, value: str = "NULL") -> Issue:
    f = f"'{fld}'" if fld else "NULL"
    struct = f"struct_pack(code := '{code}', field := {f}, value := left(({value})::VARCHAR, 200))"
    issue = Issue(f"CASE WHEN {cond} THEN {struct} END")
    issue.code, issue.field, issue.struct = code, fld, struct
    issue.cond = f"coalesce({cond}, FALSE)"
    return issue


def _coords_unparseable_issue() -> Issue:
    return _issue("COORDS_UNPARSEABLE", "latitude", "(latitude IS NOT NULL AND lat_in IS NULL) OR "
                  "(longitude IS NOT NULL AND lon_in IS NULL)", "concat_ws(',', latitude, longitude)")


def _postcode_issue(p: Params) -> Issue:
    return _issue("POSTCODE_MALFORMED", "postcode", f"pc_norm IS NOT NULL AND NOT regexp_matches(pc_norm, "
                  f"{p.add(POSTCODE_RE)})", "postcode")


def _qid_issues(p: Params, mapping: Mapping, has_qid: bool) -> list:
    """A `_quarantine_id` (a re-submitted correction) must name a quarantine entry of this same source: one
    retailer's file cannot resolve another source's entries (the load resolves only its own source's)."""
    if not has_qid:
        return []
    src = p.add(mapping.name)
    return [_issue("QUARANTINE_ID_FOREIGN", "_quarantine_id", "_qid IS NOT NULL AND _qid NOT IN (SELECT "
                   f"quarantine_id FROM quarantine WHERE source_name = {src})", "_qid")]


def _text_issues(p: Params, fields: tuple[str, ...]) -> tuple[str, str]:
    """(cheap prefilter over all text fields, list of per-field issues evaluated only when it fires)."""
    fr, mr = p.add(FORMULA_RE), p.add(MARKUP_RE)
    maxlen_value = int(config.get("ingest.max_field_chars", 5000))
    maxlen = p.add(maxlen_value)
    out = []
    for fld in fields:
        out.append(_issue("FORMULA_IN_CELL", fld, f"regexp_matches({fld}, {fr})", fld))
        out.append(_issue("MARKUP_IN_TEXT", fld, f"regexp_matches({fld}, {mr})", fld))
        out.append(_issue("FIELD_TOO_LONG", fld, f"length({fld}) > {maxlen}", f"length({fld})"))
    # The prefilter only has to be a superset of the rows where some per-field issue fires: a formula holds
    # '=' or '(', markup '<', '=' or ':' (javascript:), and a value longer than maxlen characters has more
    # than maxlen bytes. Plain substring tests per field are much cheaper than a regex over all fields joined.
    # (the character tests run once over the fields joined: one pass instead of four per field)
    joined = "concat_ws(chr(31), " + ", ".join(fields) + ")"
    checks = [f"contains({joined}, {p.add(ch)})" for ch in ("<", "=", "(", ":")]
    checks += [f"strlen({fld}) > {maxlen}" for fld in fields]
    prefilter = "coalesce(" + " OR ".join(checks) + ", FALSE)"
    return prefilter, "list_filter([" + ", ".join(out) + "], lambda x: x IS NOT NULL)"


def _finish(con, p: Params, select_sql: str, issues: list, absent=(), internal=(), keep_values: bool = True,
            received: bool = False) -> None:
    row_issues = [i for i in issues if isinstance(i, Issue)]
    text = [i for i in issues if isinstance(i, tuple)]
    text_list = "[]"
    for prefilter, lst in text:  # per-field text rules, evaluated only for rows their prefilter lets through
        text_list = f"list_concat({text_list}, CASE WHEN {prefilter} THEN {lst} ELSE [] END)"
    if not keep_values:
        _finish_dry_run(con, p, select_sql, row_issues, text_list,
                        "received_at" if received and "received_at" not in absent else "NULL::VARCHAR",
                        MENTION_COLUMNS if received else ())
        return
    # v_t keeps one bit per row rule fired (a BIGINT: the conditions are evaluated once, here) and the text rules'
    # issues, instead of a list of structs per row; view v rebuilds `issues`, with their values, from the bits,
    # only for the rows that have any and only when read (the rows with a rule fired are few).
    # v_t holds the validated rows without the canonical fields the file does not have (NULL in every row:
    # storing them would only cost memory); view v adds them back as NULL columns for the loaders
    # (`internal`: intermediate columns only the rules read, not kept at all)
    mask, error_mask = _rule_mask(row_issues)
    dropped = list(absent) + list(internal)
    exclude = f" EXCLUDE ({', '.join(dropped)})" if dropped else ""
    drop_v(con)
    sql = f"CREATE TEMP TABLE v_t AS SELECT *{exclude}, {mask} AS _mask, {text_list} AS _text FROM ({select_sql}) b"
    execute_one(con, sql, p.bind(sql))
    nulls = "".join(f", NULL::VARCHAR AS {fld}" for fld in absent)  # generated canonical field names
    structs = []
    for k, issue in enumerate(row_issues):
        if "$" in issue.struct:  # (values are columns of the row: nothing to bind, nothing inlined)
            raise ValueError(f"the value of rule {issue.code} holds a parameter")
        structs.append(f"CASE WHEN ((_mask >> {k}) & 1) = 1 THEN {issue.struct} END")
    issues = (f"CASE WHEN _mask = 0 THEN _text ELSE list_concat(list_filter([{', '.join(structs)}], "
              f"lambda x: x IS NOT NULL), _text) END")
    con.execute(f"""CREATE TEMP VIEW v AS SELECT *, {issues} AS issues, {_codes_sql(row_issues)} AS issue_codes,
      (_mask & {error_mask}) <> 0 OR (len(_text) > 0 AND {_has_error_sql('_text')}) AS has_error
      FROM (SELECT *{nulls} FROM v_t)""")


def _codes_sql(row_issues: list) -> str:
    """SQL for the codes of a row's issues (view v's `issue_codes`: as `issues` but without building the values),
    from the rule bits _mask and the text rules' issues _text (codes are constants of this module)."""
    codes = "[" + ", ".join("'" + i.code.replace("'", "''") + "'" for i in row_issues) + "]::VARCHAR[]"
    text_codes = "list_transform(_text, lambda x: x.code)"
    if not row_issues:
        return text_codes
    return (f"CASE WHEN _mask = 0 THEN {text_codes} ELSE list_concat(list_transform(list_filter(range({len(row_issues)}),"
            f" lambda k: ((_mask >> k) & 1) = 1), lambda k: ({codes})[k + 1]), {text_codes}) END")


def _rule_mask(row_issues: list) -> tuple[str, int]:
    """SQL for a BIGINT with bit k set when row rule k fires, and the mask of the error rules' bits."""
    if len(row_issues) > 63:
        raise ValueError("more row rules than bits in a BIGINT")
    errs = set(rules_mod.error_codes())
    mask = " | ".join(f"(CASE WHEN {i.cond} THEN {1 << k} ELSE 0 END)::BIGINT" for k, i in enumerate(row_issues))
    return mask or "0::BIGINT", sum(1 << k for k, i in enumerate(row_issues) if i.code in errs)


def _has_error_sql(issues: str) -> str:
    """Whether a list of issues holds an error-severity rule (codes inlined: constants of rules.py)."""
    codes = ", ".join("'" + c.replace("'", "''") + "'" for c in rules_mod.error_codes())
    return f"list_has_any(list_transform({issues}, lambda x: x.code), [{codes}]::VARCHAR[])"


def _finish_dry_run(con, p: Params, select_sql: str, row_issues: list, text_list: str, received: str,
                    mention_columns=()) -> None:
    """A dry run keeps per row only its referral key, the columns the mention checks read, which rules fired
    (one bit each in a BIGINT, much cheaper than a list of structs) and whether any is an error. View v
    rebuilds `issues` (code and field; no values) from the bits for the few rows that have any."""
    mask, error_mask = _rule_mask(row_issues)
    keep = "".join(f"{c}, " for c in mention_columns)  # generated column names
    sql = f"""CREATE TEMP TABLE v_t AS
      SELECT _row, ref, received_at, {keep}_mask, _text,
             (_mask & {error_mask}) <> 0 OR (len(_text) > 0 AND {_has_error_sql('_text')}) AS has_error
      FROM (SELECT _row, ref, {received} AS received_at, {keep}{mask} AS _mask, {text_list} AS _text
            FROM ({select_sql}) b)"""
    drop_v(con)
    execute_one(con, sql, p.bind(sql))

    def lit(text: str | None) -> str:  # rule codes and field names are constants of this module
        return "NULL::VARCHAR" if text is None else "'" + text.replace("'", "''") + "'"

    codes = "[" + ", ".join(lit(i.code) for i in row_issues) + "]::VARCHAR[]"
    fields = "[" + ", ".join(lit(i.field) for i in row_issues) + "]::VARCHAR[]"
    n = len(row_issues)
    con.execute(f"""CREATE TEMP VIEW v AS SELECT _row, ref, received_at, {keep}has_error,
      CASE WHEN _mask = 0 THEN _text ELSE list_concat(list_transform(
          list_filter(range({n}), lambda k: (_mask >> k) & 1 = 1),
          lambda k: struct_pack(code := ({codes})[k + 1], field := ({fields})[k + 1], value := NULL::VARCHAR)), _text)
      END AS issues, {_codes_sql(row_issues)} AS issue_codes FROM v_t""")


def drop_v(con) -> None:
    """Drop view v and table v_t (and a table v left by an older version on this connection)."""
    drop_temp_relation(con, "v", "v_t")


# -- referrals -------------------------------------------------------------------------------------
def validate_referrals(con, mapping: Mapping, now, file_label: str, absent=(), keep_values: bool = True,
                       has_qid: bool = False) -> None:
    p = Params()
    _force_map(con)
    dtf = p.add(_formats(mapping.datetime_formats, ISO_DATETIME + ISO_DATE))
    combo = p.add(_formats(tuple(f"{d} {t}" for d in mapping.date_formats for t in mapping.time_formats),
                           tuple(f"{d} {t}" for d in ISO_DATE for t in ("%H:%M:%S", "%H:%M"))))
    df = p.add(_formats(mapping.date_formats, ISO_DATE + ("%Y-%m-%d %H:%M:%S",)))
    now_p = p.add(now)
    retailer = p.add(mapping.retailer or "")
    label = p.add(file_label)
    is_retailer = mapping.source_type == "retailer"
    # store ids for retailer sources: exact store_ref, else the unique store with the same number sans zeros
    con.execute("DROP TABLE IF EXISTS smap")
    smap_sql = (
        f"CREATE TEMP TABLE smap AS SELECT r.store_ref AS raw_ref, coalesce(max(CASE WHEN st.store_ref = r.store_ref "
        f"THEN st.store_id END), CASE WHEN count(st.store_id) = 1 THEN any_value(st.store_id) END) AS store_id "
        f"FROM (SELECT DISTINCT store_ref FROM stg WHERE store_ref IS NOT NULL) r LEFT JOIN stores st ON "
        f"st.retailer_id = {retailer} AND ltrim(st.store_ref, '0') = ltrim(r.store_ref, '0') GROUP BY r.store_ref")
    con.execute(smap_sql, p.bind(smap_sql))
    # postcode directory: the postcodes table, else the store directory
    con.execute("DROP TABLE IF EXISTS pcmap")
    con.execute(
        "CREATE TEMP TABLE pcmap AS SELECT k.pc AS pc_norm, coalesce(any_value(pc.latitude), avg(st.latitude)) AS lat,"
        " coalesce(any_value(pc.longitude), avg(st.longitude)) AS lon FROM (SELECT DISTINCT upper(regexp_replace("
        "postcode, '\\s', '', 'g')) AS pc FROM stg WHERE postcode IS NOT NULL) k LEFT JOIN postcodes pc ON "
        "pc.postcode_norm = k.pc LEFT JOIN stores st ON upper(regexp_replace(st.postcode, '\\s', '', 'g')) = k.pc "
        "GROUP BY k.pc")
    in_gb = _in_gb("lat_in", "lon_in")
    swapped = _in_gb("lon_in", "lat_in")
    value_clean = "regexp_replace(value_gbp, '[£$,\\s]|GBP', '', 'g')"
    base = f"""
      SELECT s.*,
        nullif(upper(regexp_replace(s.crime_number, '[^A-Za-z0-9]', '', 'g')), '') AS crime_number_norm,
        fm.force_code AS force_stated,
        CASE WHEN s.occurred_at IS NOT NULL THEN try_strptime(s.occurred_at, {dtf})
             WHEN s.occurred_date IS NOT NULL THEN coalesce(
                try_strptime(regexp_replace(s.occurred_date, ' 00:00(:00)?$', '') || ' ' || s.occurred_time, {combo}),
                try_strptime(s.occurred_date, {df})) END AS occurred_ts,
        coalesce(s.occurred_at, s.occurred_date) AS occurred_raw,
        try_strptime(s.received_at, {dtf}) AS received_ts,
        coalesce(try_cast(s.value_gbp AS DECIMAL(12, 2)), try_cast({value_clean} AS DECIMAL(12, 2))) AS value_num,
        try_cast(s.offenders_count AS INTEGER) AS offenders_num,
        try_cast(s.latitude AS DOUBLE) AS lat_in, try_cast(s.longitude AS DOUBLE) AS lon_in,
        nullif(upper(regexp_replace(s.postcode, '[^A-Za-z0-9]', '', 'g')), '') AS pc_norm,
        {_bool(p, mapping, 's.violence')} AS violence_b,
        {_bool(p, mapping, 's.detained')} AS detained_b,
        {_bool(p, mapping, 's.cctv')} AS cctv_b,
        upper(regexp_replace(coalesce(s.grading, ''), '[^A-Za-z0-9]', '', 'g')) AS grading_norm,
        sm.store_id AS retail_store_id
      FROM stg s LEFT JOIN fmap fm ON fm.raw = s.force
      LEFT JOIN smap sm ON {'TRUE' if is_retailer else 'FALSE'} AND sm.raw_ref = s.store_ref
    """
    b2 = f"""
      SELECT b.*,
        CASE WHEN {in_gb} THEN lat_in WHEN {swapped} THEN lon_in END AS lat_ok,
        CASE WHEN {in_gb} THEN lon_in WHEN {swapped} THEN lat_in END AS lon_ok,
        pm.lat AS pc_lat, pm.lon AS pc_lon,
        CASE WHEN length(grading_norm) <> 3 THEN CASE WHEN grading_norm = '' THEN NULL ELSE 'invalid' END
             WHEN contains('123', grading_norm[1]) AND contains('ABCDE', grading_norm[2])
                  AND contains('PC', grading_norm[3]) THEN '3x5x2'
             WHEN contains('ABCDE', grading_norm[1]) AND contains('12345', grading_norm[2])
                  AND contains('12345', grading_norm[3]) THEN '5x5x5'
             ELSE 'invalid' END AS grading_scheme
      FROM ({base}) b LEFT JOIN pcmap pm ON pm.pc_norm = b.pc_norm
    """
    con.execute("DROP VIEW IF EXISTS b2")
    execute_one(con, _inline(f"CREATE TEMP VIEW b2 AS {b2}", _inline_params(p.bind(b2))))
    # match force-source locations to stores: same postcode (preferring a name match), else nearest within 150 m
    con.execute("DROP TABLE IF EXISTS lmatch")
    radius = float(config.get("ingest.store_match_metres", 150))
    dist = haversine_m("l.lat", "l.lon", "st.latitude", "st.longitude")
    con.execute(f"""
      CREATE TEMP TABLE lmatch AS
      WITH l AS (SELECT DISTINCT pc_norm, lower(store_name) AS sname, coalesce(lat_ok, pc_lat) AS lat,
                        coalesce(lon_ok, pc_lon) AS lon
                 FROM b2 WHERE retail_store_id IS NULL AND (pc_norm IS NOT NULL OR lat_ok IS NOT NULL)),
      by_pc AS (SELECT l.pc_norm, l.sname, l.lat, l.lon, arg_min(st.store_id, CASE WHEN l.sname IS NOT NULL AND
                  (contains(lower(st.name), l.sname) OR contains(l.sname, lower(st.name))) THEN 0 ELSE 1 END) AS sid
                FROM l JOIN stores st ON upper(regexp_replace(st.postcode, '[^A-Za-z0-9]', '', 'g')) = l.pc_norm
                GROUP BY ALL),
      by_xy AS (SELECT l.pc_norm, l.sname, l.lat, l.lon, arg_min(st.store_id, {dist}) AS sid
                FROM l JOIN stores st ON abs(st.latitude - l.lat) < 0.002 AND abs(st.longitude - l.lon) < 0.003
                WHERE {dist} <= {radius} GROUP BY ALL)
      SELECT l.pc_norm, l.sname, l.lat, l.lon, coalesce(by_pc.sid, by_xy.sid) AS store_id
      FROM l LEFT JOIN by_pc ON by_pc.pc_norm IS NOT DISTINCT FROM l.pc_norm AND by_pc.sname IS NOT DISTINCT FROM l.sname
                             AND by_pc.lat IS NOT DISTINCT FROM l.lat AND by_pc.lon IS NOT DISTINCT FROM l.lon
             LEFT JOIN by_xy ON by_xy.pc_norm IS NOT DISTINCT FROM l.pc_norm AND by_xy.sname IS NOT DISTINCT FROM l.sname
                             AND by_xy.lat IS NOT DISTINCT FROM l.lat AND by_xy.lon IS NOT DISTINCT FROM l.lon
    """)
    located = f"""
      SELECT b2.*, coalesce(b2.retail_store_id, lm.store_id) AS store_id_final,
        st.latitude AS st_lat, st.longitude AS st_lon, st.postcode AS st_postcode, st.force_code AS st_force,
        coalesce(b2.force_stated, st.force_code) AS force_code
      FROM b2 LEFT JOIN lmatch lm ON b2.retail_store_id IS NULL
          AND lm.pc_norm IS NOT DISTINCT FROM b2.pc_norm AND lm.sname IS NOT DISTINCT FROM lower(b2.store_name)
          AND lm.lat IS NOT DISTINCT FROM coalesce(b2.lat_ok, b2.pc_lat) AND lm.lon IS NOT DISTINCT FROM coalesce(b2.lon_ok, b2.pc_lon)
      LEFT JOIN stores st ON st.store_id = coalesce(b2.retail_store_id, lm.store_id)
    """
    n = now_p
    issues = [
        _issue("CRIME_NUMBER_MISSING", "crime_number", "crime_number_norm IS NULL", "crime_number"),
        _issue("FORCE_UNKNOWN", "force", "force IS NOT NULL AND force_stated IS NULL", "force"),
        _issue("FORCE_MISSING", "force", "force IS NULL AND force_code IS NULL"),
        _issue("FORCE_FROM_STORE", "force", "force IS NULL AND force_code IS NOT NULL", "force_code"),
        _issue("DATE_MISSING", "occurred_at", "occurred_raw IS NULL"),
        _issue("DATE_UNPARSEABLE", "occurred_at", "occurred_raw IS NOT NULL AND occurred_ts IS NULL",
               "concat_ws(' ', occurred_at, occurred_date, occurred_time)"),
        _issue("DATE_UNPARSEABLE", "received_at", "received_at IS NOT NULL AND received_ts IS NULL", "received_at"),
        _issue("RECEIVED_MISSING", "received_at", "received_at IS NULL"),
        _issue("DATE_FUTURE", "occurred_at", f"occurred_ts > {n}", "occurred_ts"),
        _issue("DATE_FUTURE", "received_at", f"received_ts > {n}", "received_ts"),
        _issue("INCIDENT_AFTER_REFERRAL", "occurred_at", "occurred_ts > received_ts",
               "strftime(occurred_ts, '%Y-%m-%d %H:%M') || ' > ' || strftime(received_ts, '%Y-%m-%d %H:%M')"),
        _issue("VALUE_UNPARSEABLE", "value_gbp", "value_gbp IS NOT NULL AND value_num IS NULL", "value_gbp"),
        _issue("VALUE_NEGATIVE", "value_gbp", "value_num < 0", "value_gbp"),
        _issue("VALUE_UNPARSEABLE", "offenders_count", "offenders_count IS NOT NULL AND offenders_num IS NULL",
               "offenders_count"),
        _issue("VALUE_NEGATIVE", "offenders_count", "offenders_num < 0", "offenders_count"),
        _coords_unparseable_issue(),
        _issue("COORDS_SWAPPED", "latitude", f"lat_in IS NOT NULL AND NOT {in_gb} AND {swapped}",
               "concat_ws(',', latitude, longitude)"),
        _issue("COORDS_REPLACED", "latitude", f"lat_in IS NOT NULL AND lat_ok IS NULL AND "
               "(pc_lat IS NOT NULL OR st_lat IS NOT NULL)", "concat_ws(',', latitude, longitude)"),
        _issue("COORDS_OUTSIDE_GB", "latitude", f"(lat_in IS NOT NULL OR lon_in IS NOT NULL) AND lat_ok IS NULL AND "
               "pc_lat IS NULL AND st_lat IS NULL", "concat_ws(',', latitude, longitude)"),
        _postcode_issue(p),
        _issue("STORE_UNKNOWN", "store_ref", "store_ref IS NOT NULL AND retail_store_id IS NULL", "store_ref")
        if is_retailer else "NULL",
        _issue("LOCATION_UNRESOLVED", "location", "store_id_final IS NULL AND pc_lat IS NULL AND lat_ok IS NULL",
               "concat_ws(', ', store_ref, store_name, address, postcode)"),
        _issue("GRADING_INVALID", "grading", "grading_scheme = 'invalid'", "grading"),
        _issue("GRADING_LEGACY", "grading", "grading_scheme = '5x5x5'", "grading"),
        _issue("GRADING_INVALID", "source_evaluation", "source_evaluation IS NOT NULL AND "
               "se_norm IS NULL", "source_evaluation"),
        _issue("GRADING_INVALID", "intelligence_assessment", "intelligence_assessment IS NOT NULL AND "
               "NOT regexp_matches(upper(trim(intelligence_assessment)), '^[A-E]\\b')", "intelligence_assessment"),
        _issue("GRADING_INVALID", "handling_code", "handling_code IS NOT NULL AND "
               "NOT regexp_matches(upper(trim(handling_code)), '^[PC]\\b')", "handling_code"),
        _issue("GRADING_CONDITIONS_MISSING", "handling_conditions", "hc_final = 'C' AND handling_conditions IS NULL")
        if {"handling_conditions", "grading_object"} & mapping.fields else "NULL",
        _issue("REFERRAL_REF_MISSING", "referral_ref", "referral_ref IS NULL"),
        _issue("BOOL_UNRECOGNISED", "violence", _bool_bad(p, mapping, "violence"), "violence"),
        _issue("BOOL_UNRECOGNISED", "detained", _bool_bad(p, mapping, "detained"), "detained"),
        _issue("COUNT_MISMATCH", "offenders_count", "offenders_num IS NOT NULL AND listed_count IS NOT NULL AND "
               "listed_count > 0 AND offenders_num < listed_count", "offenders_num || ' stated, ' || listed_count || "
               "' listed'"),
    ] + _qid_issues(p, mapping, has_qid) + [_text_issues(p, TEXT_FIELDS)]
    sep = p.add(mapping.multi_sep)
    select_sql = f"""
      SELECT x.*, coalesce(referral_ref, {label} || '#' || _row) AS ref,
        CASE WHEN grading_scheme IN ('3x5x2', '5x5x5') THEN grading_norm[1] ELSE se_norm END AS se_final,
        CASE WHEN grading_scheme IN ('3x5x2', '5x5x5') THEN grading_norm[2]
             ELSE regexp_extract(upper(trim(intelligence_assessment)), '^([A-E])\\b', 1) END AS ia_final,
        hc_final
      FROM (
        SELECT l.*,
          CASE WHEN regexp_matches(trim(source_evaluation), '^[123]\\b') THEN left(trim(source_evaluation), 1)
               WHEN lower(trim(source_evaluation)) IN ('reliable') THEN '1'
               WHEN lower(trim(source_evaluation)) IN ('untested') THEN '2'
               WHEN lower(trim(source_evaluation)) IN ('not reliable', 'unreliable') THEN '3' END AS se_norm,
          CASE WHEN grading_scheme IN ('3x5x2', '5x5x5') THEN grading_norm[3]
               ELSE nullif(regexp_extract(upper(trim(handling_code)), '^([PC])\\b', 1), '') END AS hc_final,
          CASE WHEN offender_names IS NOT NULL THEN len(string_split(offender_names, {sep})) END AS listed_count
        FROM ({located}) l
      ) x
    """
    _finish(con, p, select_sql, issues, absent, internal=REFERRAL_INTERNAL_COLUMNS, keep_values=keep_values,
            received=True)


# what a dry run keeps of each referral row for the mention checks (dates of birth, marks, tactics)
MENTION_COLUMNS = ("occurred_ts", "occurred_raw", "incident_ref", "crime_number_norm", "store_ref", "tactics",
                   "offender_names", "offender_dobs", "offender_genders", "offender_name", "offender_dob",
                   "offender_gender", "offender_role", "offender_description", "offenders", "vrm", "vehicles",
                   "vehicle_make", "vehicle_colour")

# intermediate columns of validate_referrals that only the rules use (the loaders never read them)
# (listed_count is kept: COUNT_MISMATCH's value, rebuilt by view v from the rule bits, names it)
REFERRAL_INTERNAL_COLUMNS = ("force_stated", "pc_norm", "grading_norm", "retail_store_id", "st_force", "se_norm")


# -- store directory ---------------------------------------------------------------------------------
def validate_stores(con, mapping: Mapping, now, file_label: str, absent=(), keep_values: bool = True,
                    has_qid: bool = False) -> None:
    p = Params()
    _force_map(con, "police_force")
    in_gb = _in_gb("lat_in", "lon_in")
    select_sql = f"""
      SELECT s.*, try_cast(latitude AS DOUBLE) AS lat_in, try_cast(longitude AS DOUBLE) AS lon_in,
        nullif(upper(regexp_replace(postcode, '[^A-Za-z0-9]', '', 'g')), '') AS pc_norm, fm.force_code,
        upper(retailer_code) || '-' || store_ref AS store_id, s.retailer_code AS ref
      FROM stg s LEFT JOIN fmap fm ON fm.raw = s.police_force
    """
    issues = [
        _issue("STORE_KEY_MISSING", "store_ref", "retailer_code IS NULL OR store_ref IS NULL"),
        _issue("FORCE_UNKNOWN", "police_force", "police_force IS NOT NULL AND force_code IS NULL", "police_force"),
        _coords_unparseable_issue(),
        _issue("COORDS_OUTSIDE_GB", "latitude", f"lat_in IS NOT NULL AND lon_in IS NOT NULL AND NOT {in_gb}",
               "concat_ws(',', latitude, longitude)"),
        _postcode_issue(p),
    ] + _qid_issues(p, mapping, has_qid) + [_text_issues(p, ("store_name", "address", "town", "retailer_name"))]
    _finish(con, p, select_sql, issues, absent, keep_values=keep_values)


# -- police.uk recorded crime ----------------------------------------------------------------------------
def validate_recorded_crime(con, mapping: Mapping, now, file_label: str, absent=(), keep_values: bool = True,
                            has_qid: bool = False) -> None:
    p = Params()
    _force_map(con, "falls_within")
    in_gb = _in_gb("lat_in", "lon_in")
    now_p = p.add(now)
    select_sql = f"""
      SELECT s.*, try_strptime(month, '%Y-%m')::DATE AS month_date, try_cast(latitude AS DOUBLE) AS lat_in,
        try_cast(longitude AS DOUBLE) AS lon_in, fm.force_code,
        coalesce(crime_id, {p.add(file_label)} || '#' || s._row) AS ref
      FROM stg s LEFT JOIN fmap fm ON fm.raw = s.falls_within
    """
    issues = [
        _issue("DATE_MISSING", "month", "month IS NULL"),
        _issue("DATE_UNPARSEABLE", "month", "month IS NOT NULL AND month_date IS NULL", "month"),
        _issue("DATE_FUTURE", "month", f"month_date > {now_p}", "month"),
        _issue("FORCE_UNKNOWN", "falls_within", "falls_within IS NOT NULL AND force_code IS NULL", "falls_within"),
        _coords_unparseable_issue(),
        _issue("COORDS_OUTSIDE_GB", "latitude", f"lat_in IS NOT NULL AND lon_in IS NOT NULL AND NOT {in_gb}",
               "concat_ws(',', latitude, longitude)"),
    ] + _qid_issues(p, mapping, has_qid) + [_text_issues(p, ("location", "crime_type", "context"))]
    _finish(con, p, select_sql, issues, absent, keep_values=keep_values)


VALIDATORS = {"referrals": validate_referrals, "stores": validate_stores, "recorded_crime": validate_recorded_crime}


def rules_table(con) -> None:
    frame = pd.DataFrame([(r.code, r.severity, r.message) for r in rules_mod.rules().values()],
                         columns=["code", "severity", "message"])
    con.execute("DROP TABLE IF EXISTS rules_t")
    con.register("_rules_df", frame)
    con.execute("CREATE TEMP TABLE rules_t AS SELECT * FROM _rules_df")
    con.unregister("_rules_df")


def mark_quarantine(con, group_key_sql: str = "ref") -> None:
    """Add `quarantined`: rows with an error, and every other row of the same referral (REFERRAL_INCOMPLETE)."""
    con.execute("DROP TABLE IF EXISTS vq")
    con.execute(  # (view v gives has_error: from the issues, or in a dry run from the rule bits)
        f"""CREATE TEMP TABLE vq AS
        WITH e AS MATERIALIZED (SELECT _row, {group_key_sql} AS gk, has_error FROM v)
        SELECT e._row, e.has_error,
               coalesce(NOT e.has_error AND e.gk IN (SELECT gk FROM e WHERE has_error), FALSE) AS held_back
        FROM e""")
