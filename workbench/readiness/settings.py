"""The readiness settings file (`workbench/config/readiness.yaml`), checked into a plain dict.

Override with the file named in WORKBENCH_READINESS_CONFIG (merged over the packaged one, key by key) or pass a
dict of overrides to `readiness_settings`. A bad value is one line naming the key."""
from __future__ import annotations

from pathlib import Path

from workbench.config import PACKAGE_DIR, layered_settings
from workbench.errors import WorkbenchError

SETTINGS_FILE = PACKAGE_DIR / "config" / "readiness.yaml"
ENV = "WORKBENCH_READINESS_CONFIG"


def _number(value, where: str, minimum: float = 0.0) -> float:
    if isinstance(value, bool):
        raise WorkbenchError(f"readiness settings: {where} must be a number, not {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise WorkbenchError(f"readiness settings: {where} must be a number, not {value!r}") from None
    if number != number or number < minimum:
        raise WorkbenchError(f"readiness settings: {where} must be at least {minimum:g}, not {value!r}")
    return number


def _flag(value, where: str) -> bool:
    if not isinstance(value, bool):
        raise WorkbenchError(f"readiness settings: {where} must be true or false, not {value!r}")
    return value


def readiness_settings(overrides: dict | None = None, path: str | Path | None = None) -> dict:
    """The effective settings: packaged file, then WORKBENCH_READINESS_CONFIG (or `path`), then `overrides`."""
    raw = layered_settings(SETTINGS_FILE.stem, ENV, overrides, path)
    t = raw.get("threshold") or {}
    out = {
        "min_value_gbp": _number(t.get("min_value_gbp"), "threshold.min_value_gbp"),
        "min_offenders": int(_number(t.get("min_offenders"), "threshold.min_offenders")),
        "violence_meets": _flag(t.get("violence_meets"), "threshold.violence_meets"),
        "detained_meets": _flag(t.get("detained_meets"), "threshold.detained_meets"),
        "require_evidence": _flag((raw.get("evidence") or {}).get("require_reference"), "evidence.require_reference"),
        "require_grading": _flag((raw.get("grading") or {}).get("require"), "grading.require"),
        "max_rows": int(_number(raw.get("max_rows"), "max_rows", 1)),
        "top_problems": int(_number(raw.get("top_problems"), "top_problems", 1)),
        "rule_severity": raw.get("rule_severity") or {},
    }
    if not isinstance(out["rule_severity"], dict):
        raise WorkbenchError("readiness settings: rule_severity must map rule codes to error or warning")
    return out
