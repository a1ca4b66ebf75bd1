"""The packages settings file (`workbench/config/packages.yaml`), validated into a plain dict.

Override with the file named in WORKBENCH_PACKAGES_CONFIG (merged over the packaged one, key by key) or pass a
dict of overrides to `package_settings`."""
from __future__ import annotations

from pathlib import Path

from workbench.config import PACKAGE_DIR, layered_settings
from workbench.errors import WorkbenchError

SETTINGS_FILE = PACKAGE_DIR / "config" / "packages.yaml"
ENV = "WORKBENCH_PACKAGES_CONFIG"
WORDS_SECTIONS = ("summary", "assessment", "recommendations")
# every section a package can hold, in the NIM subject-profile order (the order they are printed in)
SECTIONS = ("summary", "subjects", "activity", "geography", "associations", "vehicles", "tactics", "timeline",
            "evidence", "risk", "assessment", "gaps", "recommendations")
REQUIRED_SECTIONS = ("summary",)     # the bottom line and the handling box: every package opens with them


def package_settings(overrides: dict | None = None, path: str | Path | None = None) -> dict:
    """The effective settings: packaged file, then WORKBENCH_PACKAGES_CONFIG (or `path`), then `overrides`."""
    raw = layered_settings(SETTINGS_FILE.stem, ENV, overrides, path)
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
    try:
        if int(raw.get("names_written_max", 0)) < 1:
            raise ValueError
    except (TypeError, ValueError):
        raise WorkbenchError("packages settings: names_written_max must be a whole number of at least 1") from None
    raw["sections"] = choose_sections(raw.get("sections", "all"), where="packages settings: sections")
    return raw


def choose_sections(sections=None, omit=None, *, where: str = "--sections") -> list[str]:
    """The sections a package holds, in print order: `sections` (a list, a comma-separated text, or "all"/None
    for every one) less `omit`. The summary cannot be left out; an unknown name is a one-line error."""
    def names(value, flag):
        if value is None:
            return []
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)):
            raise WorkbenchError(f"{flag}: give section names ({', '.join(SECTIONS)}), not {str(value)[:40]!r}")
        out = [part.strip().lower() for v in items for part in str(v).split(",") if part.strip()]
        unknown = [v for v in out if v not in SECTIONS and v != "all"]
        if unknown:
            raise WorkbenchError(f"{flag}: {unknown[0][:30]!r} is not a package section; choose from "
                                 f"{', '.join(SECTIONS)} (or all)")
        return out
    wanted = names(sections, where)
    chosen = set(SECTIONS) if not wanted or "all" in wanted else set(wanted)
    dropped = set(names(omit, "--omit"))
    if dropped & set(REQUIRED_SECTIONS) or not set(REQUIRED_SECTIONS) <= chosen:
        raise WorkbenchError(f"{where if not dropped & set(REQUIRED_SECTIONS) else '--omit'}: the summary (bottom "
                             "line and handling) is in every package and cannot be left out")
    return [s for s in SECTIONS if s in chosen - dropped]
