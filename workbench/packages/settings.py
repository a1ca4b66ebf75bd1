"""The packages settings file (`workbench/config/packages.yaml`), validated into a plain dict.

Override with the file named in WORKBENCH_PACKAGES_CONFIG (merged over the packaged one, key by key) or pass a
dict of overrides to `package_settings`."""
from __future__ import annotations

import os
from pathlib import Path

from workbench.config import PACKAGE_DIR, _merge, _read_yaml
from workbench.errors import WorkbenchError

SETTINGS_FILE = PACKAGE_DIR / "config" / "packages.yaml"
ENV = "WORKBENCH_PACKAGES_CONFIG"
WORDS_SECTIONS = ("summary", "assessment", "recommendations")


def package_settings(overrides: dict | None = None, path: str | Path | None = None) -> dict:
    """The effective settings: packaged file, then WORKBENCH_PACKAGES_CONFIG (or `path`), then `overrides`."""
    raw = _read_yaml(SETTINGS_FILE)
    extra = path or os.environ.get(ENV)
    if extra:
        raw = _merge(raw, _read_yaml(Path(extra)))
    if overrides:
        raw = _merge(raw, overrides)
    sections = raw.get("words_sections") or []
    if sorted(sections) != sorted(WORDS_SECTIONS):
        raise WorkbenchError(f"packages settings: words_sections must be {list(WORDS_SECTIONS)}, not {sections!r}")
    sanitise = raw.get("sanitise") or {}
    terms = sanitise.get("forbidden_terms") or []
    if not isinstance(terms, list) or not all(isinstance(t, str) and t.strip() for t in terms):
        raise WorkbenchError("packages settings: sanitise.forbidden_terms must be a list of non-empty texts")
    try:
        if int(raw.get("body_incidents_max", 0)) < 1:
            raise ValueError
    except (TypeError, ValueError):
        raise WorkbenchError("packages settings: body_incidents_max must be a whole number of at least 1") from None
    return raw
