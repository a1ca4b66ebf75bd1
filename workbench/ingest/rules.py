"""Validation rules: a stable code, a severity and a plain-English message for each.

Errors send the row (and the rest of its referral) to quarantine; warnings are stored with the row
and recorded in validation_flags. A severity may be changed by configuration
(`ingest.rule_severity: {CODE: warning}`), never by editing code. An override that could not take effect
(an unknown code, a value that is not a severity, a rule decided after quarantine) is refused with one line
naming the key, so a configuration never silently does nothing.
"""
from __future__ import annotations

from dataclasses import dataclass

from workbench import config
from workbench.errors import WorkbenchError
from workbench.textsafe import terminal_safe


@dataclass(frozen=True)
class Rule:
    code: str
    severity: str   # error | warning
    message: str    # what is wrong and what to do about it


_RULES = [
    Rule("ROW_MALFORMED", "error", "the row cannot be split into the file's columns; check for a truncated row, "
         "a stray delimiter or an unclosed quote"),
    Rule("CRIME_NUMBER_MISSING", "error", "no crime number: Opal accepts a referral only with the crime number the "
         "force gave the incident; add it from the police report"),
    Rule("FORCE_MISSING", "error", "no police force given and none can be taken from the store; name the force "
         "that issued the crime number"),
    Rule("FORCE_UNKNOWN", "error", "the police force is not recognised; use the force name (e.g. 'West Yorkshire "
         "Police'), a common short name or its CJS code"),
    Rule("DATE_MISSING", "error", "the incident date is missing; give the date and time the incident happened"),
    Rule("DATE_UNPARSEABLE", "error", "the date cannot be read (not a real date, or not in the source's date "
         "format); correct it"),
    Rule("DATE_FUTURE", "error", "the date is in the future; correct it"),
    Rule("INCIDENT_AFTER_REFERRAL", "error", "the incident date is after the referral date; one of them is wrong"),
    Rule("COORDS_OUTSIDE_GB", "error", "the coordinates are not in Great Britain and no postcode or store locates "
         "the incident; check latitude and longitude (are they swapped?) or give a postcode"),
    Rule("VALUE_NEGATIVE", "error", "a value or count is negative; values must be zero or more"),
    Rule("VALUE_UNPARSEABLE", "error", "a value or count is not a number; give a plain number (e.g. 125.50)"),
    Rule("GRADING_INVALID", "error", "the intelligence grading is not a valid 3x5x2 code (source evaluation 1-3, "
         "intelligence assessment A-E, handling code P or C, e.g. '2B P')"),
    Rule("STORE_KEY_MISSING", "error", "a store directory row needs both a retailer code and a store number"),
    Rule("REFERRAL_INCOMPLETE", "error", "another row of the same referral failed validation, so the whole "
         "referral is held back until it is corrected"),
    # warnings: stored and flagged
    Rule("REFERRAL_REF_MISSING", "warning", "no referral reference; the file name and row number are used instead"),
    Rule("RECEIVED_MISSING", "warning", "no referral date; the ingest time is used instead"),
    Rule("FORCE_FROM_STORE", "warning", "no police force given; the force of the store's area is used"),
    Rule("STORE_UNKNOWN", "warning", "the store number is not in the retailer's store directory"),
    Rule("LOCATION_UNRESOLVED", "warning", "the location could not be matched to a known store or postcode; the "
         "location as given is kept"),
    Rule("COORDS_SWAPPED", "warning", "latitude and longitude were swapped; they have been exchanged"),
    Rule("COORDS_REPLACED", "warning", "the coordinates are not in Great Britain; the postcode or store location "
         "is used instead"),
    Rule("COORDS_UNPARSEABLE", "warning", "the coordinates are not numbers and were ignored"),
    Rule("POSTCODE_MALFORMED", "warning", "the postcode is not a valid UK postcode format"),
    Rule("VRM_UNRECOGNISED", "warning", "the vehicle registration does not match any GB format"),
    Rule("VRM_PARTIAL", "warning", "the vehicle registration is partial"),
    Rule("TACTIC_UNKNOWN", "warning", "the tactic is not in the controlled vocabulary; it is kept as free text "
         "under UNKNOWN"),
    Rule("DOB_UNPARSEABLE", "warning", "a date of birth cannot be read (day and month swapped?); it is kept as "
         "given"),
    Rule("DOB_IMPLAUSIBLE", "warning", "a date of birth is in the future, after the incident or over 100 years ago"),
    Rule("BOOL_UNRECOGNISED", "warning", "a yes/no field has a value that is neither yes nor no; it is ignored"),
    Rule("GRADING_LEGACY", "warning", "the grading is legacy 5x5x5; it is kept as given, marked 5x5x5"),
    Rule("GRADING_CONDITIONS_MISSING", "warning", "handling code C needs the handling conditions stated"),
    Rule("FORMULA_IN_CELL", "warning", "the cell holds a spreadsheet formula; it is stored as text and never "
         "evaluated, and neutralised on export"),
    Rule("MARKUP_IN_TEXT", "warning", "the text contains HTML or script markup; it is stored as text and always "
         "escaped when shown"),
    Rule("FIELD_TOO_LONG", "warning", "the field is unusually long; it is kept in full"),
    Rule("COUNT_MISMATCH", "warning", "the stated number of offenders differs from the offenders listed"),
    Rule("QUARANTINE_ID_FOREIGN", "warning", "the _quarantine_id is not a quarantine entry of this source, so it "
         "resolves nothing; the row is taken as this source's own (a correction resolves only its own source's "
         "entries)"),
    Rule("CRIME_NUMBER_DIFFERS", "warning", "merged with an incident at the same store and time that carries a "
                                            "different crime number"),
    Rule("MERGE_SUSPECT", "warning", "the crime number matches another incident of the same force, but at another "
         "store or further apart in time than ingest.crime_number_merge_max_days; not merged: kept as its own "
         "incident and marked for review"),
]
# decided after quarantine, so always warnings: while loading against the store (dedup, merges) and per person or
# vehicle mention (a mention's flaw never costs the referral)
LOAD_TIME_RULES = ("CRIME_NUMBER_DIFFERS", "MERGE_SUSPECT", "VRM_UNRECOGNISED", "VRM_PARTIAL", "DOB_UNPARSEABLE",
                   "DOB_IMPLAUSIBLE")
_BY_CODE = {r.code: r for r in _RULES}


def rules() -> dict[str, Rule]:
    """Rules with the configured severity overrides applied (WorkbenchError for one that cannot apply)."""
    overrides = config.get("ingest.rule_severity", {}) or {}
    if not isinstance(overrides, dict):
        raise WorkbenchError("configuration ingest.rule_severity: expected a mapping of rule code to error or warning")
    for code, severity in overrides.items():
        key = f"configuration ingest.rule_severity.{terminal_safe(str(code))[:60]}"
        if code not in _BY_CODE:
            raise WorkbenchError(f"{key}: no such rule (docs/ingest.md lists the rules)")
        if severity not in ("error", "warning"):
            raise WorkbenchError(f"{key}: {terminal_safe(str(severity))[:40]!r} is not a severity: use error or warning")
        if code in LOAD_TIME_RULES and severity != _BY_CODE[code].severity:
            raise WorkbenchError(f"{key}: decided after quarantine (per mention or against the store), so it is "
                                 "always a warning")
    return {code: Rule(code, overrides.get(code, rule.severity), rule.message) for code, rule in _BY_CODE.items()}


def error_codes() -> list[str]:
    return sorted(c for c, r in rules().items() if r.severity == "error")


def message(code: str) -> str:
    return rules()[code].message
