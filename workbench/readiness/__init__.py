"""Referral-readiness check: is a retailer's extract (or one filled-in referral) ready for Opal?

    from workbench.readiness import check_file, check_referral, write_template, ingest_checked
    result = check_file(store, "brightmart_incidents.csv")          # source detected like ingest, or source=...
    result.rows        # per row: ready, must_fix, to_check, rules, problems (plain English)
    result.problems    # per problem: row, rule id, severity (must fix / check), column, value, message
    result.score       # share of rows ready and the commonest problems
    write_template(store, result, "corrected.xlsx")                  # formula-safe, marked, audited
    ingest_checked(store, result)                                    # only on request: the normal ingest

Reuses ingest's reading, mappings and rules (workbench.ingest.pipeline.validated); adds Opal's requirements
ingest does not enforce (READY_*: evidence reference, grading, threshold; workbench/config/readiness.yaml).
The check writes nothing to the store. docs/readiness.md.
"""
from workbench.readiness.check import (CHECK, MUST_FIX, ReadinessResult, check_file, check_referral,  # noqa: F401
                                       score_table)
from workbench.readiness.export import TEMPLATE_SUFFIXES, ingest_checked, write_template  # noqa: F401
from workbench.readiness.rules import READINESS_RULES, REQUIREMENTS, all_rules, rules_table  # noqa: F401
from workbench.readiness.settings import readiness_settings  # noqa: F401

__all__ = ["check_file", "check_referral", "score_table", "write_template", "ingest_checked", "ReadinessResult",
           "all_rules", "rules_table", "readiness_settings", "READINESS_RULES", "REQUIREMENTS", "MUST_FIX", "CHECK",
           "TEMPLATE_SUFFIXES"]
