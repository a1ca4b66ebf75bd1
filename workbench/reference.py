"""Reference vocabularies shipped with the workbench: police forces (with aliases) and tactics."""
from __future__ import annotations

import hashlib
import re
from functools import lru_cache

import pandas as pd
import yaml

from workbench.config import REFERENCE_DIR

FORCES_FILE = REFERENCE_DIR / "forces.csv"
TACTICS_FILE = REFERENCE_DIR / "tactics.yaml"
_FILLER_WORDS = {"police", "constabulary", "service", "force", "the"}


def normalise_label(text: str) -> str:
    """Fold a force or tactic label so that 'Avon & Somerset Constabulary' meets 'avon and somerset'."""
    text = str(text).lower().replace("&", " and ")
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return " ".join(text.split())


def _force_key(text: str) -> str:
    words = [w for w in normalise_label(text).split() if w not in _FILLER_WORDS]
    return " ".join(words)


@lru_cache(maxsize=1)
def forces() -> pd.DataFrame:
    frame = pd.read_csv(FORCES_FILE, dtype=str, keep_default_na=False)
    frame["territorial"] = frame["territorial"].eq("true")
    frame["ons_code"] = frame["ons_code"].replace("", None)
    return frame


@lru_cache(maxsize=1)
def force_aliases() -> dict[str, str]:
    """Normalised alias -> force code; names, CJS codes, ONS codes and listed aliases all resolve."""
    aliases: dict[str, str] = {}
    for row in forces().itertuples():
        labels = [row.name, row.force_code, row.ons_code or "", *row.aliases.split("|")]
        for label in labels:
            key = _force_key(label)
            if key:
                aliases.setdefault(key, row.force_code)
    for row in forces().itertuples():  # '1' and '01' both mean the Met
        if row.force_code.isdigit():
            aliases.setdefault(str(int(row.force_code)), row.force_code)
    return aliases


def resolve_force(text: str | None) -> str | None:
    """Force code for a free-text force name, alias or code; None when it is not a known force."""
    if text is None:
        return None
    return force_aliases().get(_force_key(text))


def territorial_force_codes() -> list[str]:
    return forces().loc[forces()["territorial"], "force_code"].tolist()


@lru_cache(maxsize=1)
def tactics() -> pd.DataFrame:
    entries = yaml.safe_load(TACTICS_FILE.read_text(encoding="utf-8"))
    return pd.DataFrame(
        [{k: e[k] for k in ("code", "kind", "name", "description")} for e in entries]
    ).rename(columns={"code": "tactic_code"})


@lru_cache(maxsize=1)
def tactic_synonyms() -> dict[str, str]:
    entries = yaml.safe_load(TACTICS_FILE.read_text(encoding="utf-8"))
    synonyms: dict[str, str] = {}
    for entry in entries:
        for label in [entry["code"], entry["name"], *entry.get("synonyms", [])]:
            synonyms.setdefault(normalise_label(label), entry["code"])
    return synonyms


def content_hash(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
