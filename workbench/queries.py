"""Named SQL from queries/*.sql, each with a header comment stating purpose, parameters and columns.

A query file starts with comment lines:

    -- purpose: what the query answers
    -- params: force_code VARCHAR - the force to filter on (or "none")
    -- columns: force_code, incidents

Parameters are bound by name ($force_code); no SQL is ever assembled from user text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from workbench.config import data_dir
from workbench.errors import WorkbenchError

QUERIES_DIR = data_dir("queries")
_PARAM_RE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class Query:
    name: str
    sql: str
    purpose: str
    params: tuple[str, ...] = field(default_factory=tuple)
    columns: tuple[str, ...] = field(default_factory=tuple)

    def bind(self, values: dict | None) -> dict:
        """Check the caller gave exactly the declared parameters, so a typo fails loudly."""
        values = dict(values or {})
        missing = [p for p in self.params if p not in values]
        extra = [k for k in values if k not in self.params]
        if missing or extra:
            raise WorkbenchError(
                f"query {self.name}: missing parameters {missing} / unexpected parameters {extra}"
            )
        return values


def _parse_header(name: str, text: str) -> Query:
    purpose, declared, columns = "", [], []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("--"):
            if stripped:
                break
            continue
        body = stripped[2:].strip()
        key, _, value = body.partition(":")
        key = key.strip().lower()
        if key == "purpose":
            purpose = value.strip()
        elif key == "params":
            declared += [p.split()[0] for p in value.split(";") if p.strip() and p.strip().lower() != "none"]
        elif key == "columns":
            columns += [c.strip() for c in value.split(",") if c.strip()]
    used = sorted(set(_PARAM_RE.findall(_strip_comments(text))))
    if not purpose:
        raise WorkbenchError(f"query {name}: header has no '-- purpose:' line")
    if sorted(declared) != used:
        raise WorkbenchError(f"query {name}: header declares {sorted(declared)} but SQL uses {used}")
    return Query(name=name, sql=text, purpose=purpose, params=tuple(declared), columns=tuple(columns))


def _strip_comments(sql: str) -> str:
    return "\n".join(line.split("--", 1)[0] for line in sql.splitlines())


@lru_cache(maxsize=None)
def load(name: str) -> Query:
    path = QUERIES_DIR / f"{name}.sql"  # a capability's folder may hold its queries: `linkage/name`
    if not re.fullmatch(r"(?:[a-z0-9_]+/)?[a-z0-9_]+", name) or not path.is_file():
        raise WorkbenchError(f"no query named {name!r} in {QUERIES_DIR}")
    return _parse_header(name, path.read_text(encoding="utf-8"))


def available() -> list[str]:
    return sorted([p.stem for p in QUERIES_DIR.glob("*.sql")] +
                  [f"{p.parent.name}/{p.stem}" for p in QUERIES_DIR.glob("*/*.sql")])
