"""The rules a referral is checked against: ingest's own (workbench/ingest/rules.py, reused as they are, with
their configured severities) and Opal's requirements that ingest does not enforce (READY_*, here).

A rule of severity `error` makes a row "not ready" (must fix); a `warning` is shown to check but does not.
Readiness severities may be changed in workbench/config/readiness.yaml (`rule_severity`), never in code."""
from __future__ import annotations

from workbench.errors import WorkbenchError
from workbench.ingest import rules as ingest_rules
from workbench.ingest.rules import Rule
from workbench.readiness.settings import readiness_settings
from workbench.textsafe import terminal_safe

READINESS_RULES = (
    Rule("READY_EVIDENCE_MISSING", "error", "no evidence reference: Opal needs CCTV of the whole incident and a "
         "still of the offender, sent through the digital evidence management system (DEMS); upload them and give "
         "the DEMS reference"),
    Rule("READY_DEMS_MISSING", "error", "CCTV is held but no DEMS reference is given: upload CCTV of the whole "
         "incident and a still of the offender through DEMS and give its reference"),
    Rule("READY_GRADING_MISSING", "error", "no intelligence grading: give the 3x5x2 grading of the information "
         "(source evaluation 1-3, intelligence assessment A-E, handling code P or C, e.g. '2B P')"),
    Rule("READY_BELOW_THRESHOLD", "warning", "below Opal's referral threshold (value, number of offenders, "
         "violence or a detention); refer it to the local force as usual, and to Opal only if it is part of "
         "organised or repeat offending"),
    Rule("READY_THRESHOLD_UNKNOWN", "warning", "neither the value stolen nor the number of offenders is given, so "
         "the referral threshold cannot be judged; give both"),
)
_BY_CODE = {r.code: r for r in READINESS_RULES}

# the file's columns a retailer must be able to fill, by requirement: canonical fields (any one will do)
REQUIREMENTS = {
    "crime number": ("crime_number",),
    "police force": ("force",),
    "incident date": ("occurred_at", "occurred_date"),
    "evidence reference (CCTV/DEMS)": ("dems_ref", "still_ref", "evidence"),
    "grading": ("grading", "source_evaluation", "grading_object"),
    "value stolen": ("value_gbp",),
    "number of offenders": ("offenders_count", "offender_names", "offender_name", "offenders"),
}


def all_rules() -> dict[str, Rule]:
    """Every rule by code: ingest's (its severity overrides applied) then readiness's (readiness overrides)."""
    out = dict(ingest_rules.rules())
    overrides = readiness_settings()["rule_severity"]
    for code, severity in overrides.items():
        key = f"readiness settings: rule_severity.{terminal_safe(str(code))[:60]}"
        if code not in _BY_CODE:
            raise WorkbenchError(f"{key}: not a readiness rule (ingest's own follow ingest.rule_severity)")
        if severity not in ("error", "warning"):
            raise WorkbenchError(f"{key}: {terminal_safe(str(severity))[:40]!r} is not a severity: use error or "
                                 "warning")
    for code, rule in _BY_CODE.items():
        out[code] = Rule(code, overrides.get(code, rule.severity), rule.message)
    return out


def rules_table():
    """The rules as a DataFrame (code, severity, message, origin) for docs, the CLI and the page."""
    import pandas as pd

    rows = [(r.code, r.severity, r.message, "readiness" if r.code in _BY_CODE else "ingest")
            for r in all_rules().values()]
    return pd.DataFrame(rows, columns=["code", "severity", "message", "origin"])
