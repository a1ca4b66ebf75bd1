"""Names and dates of birth made comparable: normalised forms, nickname canonicals, aliases ("aka ..."),
lenient but unambiguous dates of birth with absurd ones (future, before 1900) set aside.

Everything here is pure: strings in, strings out. Nothing is ever built into SQL from these values; they
are columns of a registered table that Splink compares.
"""
from __future__ import annotations

import csv
import re
import unicodedata
from datetime import date
from functools import lru_cache

import pandas as pd

from workbench.config import REFERENCE_DIR

NICKNAMES_FILE = REFERENCE_DIR / "nicknames.csv"
MIN_DOB = date(1900, 1, 1)

# "John Smith (aka Smudge)", "John Smith aka Smudge", "John 'Smudge' Smith", "also known as ..."
_ALIAS_RE = re.compile(r"""(?:\(|\b)(?:a\.?k\.?a\.?|also\s+known\s+as|known\s+as)\b[\s:]*([^()]+?)\)?\s*$""",
                       re.IGNORECASE)
_QUOTED_RE = re.compile(r"""["'\u2018\u2019\u201c\u201d]([^"'\u2018\u2019\u201c\u201d]{2,})["'\u2018\u2019\u201c\u201d]""")
_NON_NAME = re.compile(r"[^a-z' -]+")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


@lru_cache(maxsize=1)
def nickname_table() -> dict[str, str]:
    """nickname -> canonical forename, chains followed (haz -> harry -> henry) so every name of one family
    reads as the same canonical form."""
    table: dict[str, str] = {}
    with NICKNAMES_FILE.open(encoding="utf-8") as handle:
        rows = csv.reader(line for line in handle if line.strip() and not line.startswith("#"))
        next(rows)  # header
        for nickname, canonical in rows:
            table.setdefault(nickname.strip().lower(), canonical.strip().lower())
    resolved = {}
    for nickname in table:
        seen, name = {nickname}, table[nickname]
        while name in table and table[name] not in seen:
            seen.add(name)
            name = table[name]
        resolved[nickname] = name
    return resolved


def fold(text: object) -> str | None:
    """Lower case, accents removed (Zoë -> zoe), anything but letters, apostrophes, hyphens and spaces
    dropped, spaces collapsed; None when nothing is left (an empty or punctuation-only name).

    Names in scripts other than Latin keep their letters (unicodedata categories L*), so a name written
    in Cyrillic or Arabic still compares with itself."""
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return None
    text = str(text)
    decomposed = unicodedata.normalize("NFKD", text)
    kept = []
    for ch in decomposed:
        if unicodedata.combining(ch):
            continue
        if ch.isalpha():
            kept.append(ch.lower())
        elif ch in "'\u2019-":
            kept.append("'" if ch != "-" else "-")
        else:
            kept.append(" ")
    folded = " ".join("".join(kept).replace("'", "").split())
    return folded or None


def canonical_forename(forename: str | None) -> str | None:
    """The canonical form of a (folded) forename: its nickname family, else itself."""
    if not forename:
        return None
    first = forename.split()[0]
    return nickname_table().get(first, first)


def split_alias(full_name: object) -> tuple[str | None, str | None]:
    """(name without the alias, alias) from "J. Smith (aka Smudge)" or "John 'Smudge' Smith"."""
    if full_name is None or (isinstance(full_name, float) and pd.isna(full_name)):
        return None, None
    text = str(full_name)
    match = _ALIAS_RE.search(text)
    if match:
        return text[:match.start()].strip(" ,;(") or None, match.group(1).strip(" ,;()") or None
    match = _QUOTED_RE.search(text)
    if match:
        rest = (text[:match.start()] + " " + text[match.end():]).strip()
        return " ".join(rest.split()) or None, match.group(1).strip()
    return text, None


def split_full_name(name: str | None) -> tuple[str | None, str | None]:
    """(forename, surname) of a folded full name: "SMITH, John" -> (john, smith); "john a smith" -> (john, smith)."""
    if not name:
        return None, None
    if "," in name:
        surname, _, forename = name.partition(",")
        return fold(forename), fold(surname)
    parts = name.split()
    if len(parts) == 1:
        return None, parts[0]
    return parts[0], parts[-1]


def parse_dob(value: object, *, latest: date | None = None) -> str | None:
    """A date of birth as ISO text (YYYY-MM-DD), or None when missing, ambiguous or absurd.

    Accepts date objects and ISO text (also with trailing junk such as "1984-01-05;"). Day-first or
    month-first text (03/12/1990) is NOT guessed here: the ingest parses it per source, and a guess would
    manufacture the very day/month swaps the comparison must tolerate. Absurd dates (before 1900, after
    `latest` or today) are set aside (None)."""
    if value is None:
        return None
    try:
        if pd.isna(value):          # None, NaN, NaT, pd.NA
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, pd.Timestamp):
        value = value.date()
    if isinstance(value, date):
        parsed = value
    else:
        match = _ISO_DATE.search(str(value))
        if not match:
            return None
        try:
            parsed = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            return None
    limit = latest or date.today()
    if parsed < MIN_DOB or parsed > limit:
        return None
    return parsed.isoformat()
