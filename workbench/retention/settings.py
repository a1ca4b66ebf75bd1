"""The retention settings file (`workbench/config/retention.yaml`), validated into a plain dict.

Override with the file named in WORKBENCH_RETENTION_CONFIG (merged over the packaged one, key by key), a `path`,
or a dict of `overrides` (tests)."""
from __future__ import annotations

from pathlib import Path

from workbench.config import PACKAGE_DIR, layered_settings
from workbench.errors import WorkbenchError

SETTINGS_FILE = PACKAGE_DIR / "config" / "retention.yaml"
ENV = "WORKBENCH_RETENTION_CONFIG"
GROUPS = ("group_1", "group_2", "group_3")
FLOORS = ("group_member", "detained")
CAP_FIELDS = ("intelligence_assessment", "source_evaluation", "handling_code")


def _years(value, where: str) -> int:
    try:
        years = int(value)
        if isinstance(value, bool) or years != value or not 0 <= years <= 100:
            raise ValueError
    except (TypeError, ValueError):
        raise WorkbenchError(f"retention settings: {where} must be a whole number of years from 0 to 100, "
                             f"not {value!r}") from None
    return years


def retention_settings(overrides: dict | None = None, path: str | Path | None = None) -> dict:
    """The effective settings: packaged file, then WORKBENCH_RETENTION_CONFIG (or `path`), then `overrides`;
    every period checked (whole years 0-100)."""
    raw = layered_settings(SETTINGS_FILE.stem, ENV, overrides, path)
    groups = raw.get("groups") or {}
    for g in GROUPS:
        if g not in groups:
            raise WorkbenchError(f"retention settings: groups.{g} is missing")
        groups[g] = _years(groups[g], f"groups.{g}")
    when = raw.get("group_2_when") or {}
    types = when.get("offence_types") or []
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise WorkbenchError("retention settings: group_2_when.offence_types must be a list of offence types")
    when["offence_types"] = [t.strip().lower() for t in types]
    when["violence"] = bool(when.get("violence", False))
    floors = raw.get("floors") or {}
    for key in list(floors):
        if key not in FLOORS:
            raise WorkbenchError(f"retention settings: unknown floor {key!r} (known: {', '.join(FLOORS)})")
        floors[key] = None if floors[key] is None else _years(floors[key], f"floors.{key}")
    caps = raw.get("caps") or {}
    for key in list(caps):
        if key not in CAP_FIELDS:
            raise WorkbenchError(f"retention settings: unknown cap field {key!r} (known: {', '.join(CAP_FIELDS)})")
        table = caps[key] or {}
        if not isinstance(table, dict):
            raise WorkbenchError(f"retention settings: caps.{key} must map grading values to years")
        caps[key] = {str(v).strip().upper(): _years(y, f"caps.{key}.{v}") for v, y in table.items()}
    raw.update(groups=groups, group_2_when=when, floors=floors, caps=caps)
    return raw
