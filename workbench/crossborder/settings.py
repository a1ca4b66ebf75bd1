"""The cross-border settings file (`workbench/config/crossborder.yaml`), validated into a plain dict.

Override with the file named in WORKBENCH_CROSSBORDER_CONFIG (merged over the packaged one, key by key) or pass
a dict of overrides to `crossborder_settings`."""
from __future__ import annotations

from pathlib import Path

from workbench.config import PACKAGE_DIR, layered_settings
from workbench.errors import WorkbenchError

SETTINGS_FILE = PACKAGE_DIR / "config" / "crossborder.yaml"
ENV = "WORKBENCH_CROSSBORDER_CONFIG"


def _positive(value, where: str, minimum: float = 0.0, strict: bool = True) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise WorkbenchError(f"crossborder settings: {where} must be a number, not {value!r}") from None
    if number != number or (number <= minimum if strict else number < minimum):
        raise WorkbenchError(f"crossborder settings: {where} must be {'above' if strict else 'at least'} {minimum:g}, "
                             f"not {value!r}")
    return number


def crossborder_settings(overrides: dict | None = None, path: str | Path | None = None) -> dict:
    """The effective settings: packaged file, then WORKBENCH_CROSSBORDER_CONFIG (or `path`), then `overrides`."""
    raw = layered_settings(SETTINGS_FILE.stem, ENV, overrides, path)
    runs = raw.get("runs") or {}
    _positive(runs.get("speed_limit_kmh"), "runs.speed_limit_kmh")
    _positive(runs.get("detour_factor"), "runs.detour_factor", 1.0, strict=False)
    _positive(runs.get("max_gap_hours"), "runs.max_gap_hours")
    _positive(runs.get("min_incidents"), "runs.min_incidents", 1.0, strict=False)
    _positive((raw.get("home_base") or {}).get("radius_km"), "home_base.radius_km")
    weights = (raw.get("lead_force") or {}).get("weights") or {}
    for key in ("home_base", "offences", "violence", "value", "juveniles"):
        _positive(weights.get(key, 0), f"lead_force.weights.{key}", 0.0, strict=False)
    for name in ("time_bands", "value_bands"):
        bands = (raw.get("signatures") or {}).get(name) or {}
        if not bands or 0 not in [int(v) for v in bands.values()]:
            raise WorkbenchError(f"crossborder settings: signatures.{name} needs a band starting at 0")
    return raw
