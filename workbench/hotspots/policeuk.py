"""police.uk street-level crime CSVs (data.police.uk "street" files) as hotspot events.

Reads one or many files (or directories of them: several months, one or several forces), keeps one
crime type (default Shoplifting), and returns an events frame: occurred_at = first day of `Month`,
latitude, longitude (anonymised snap points), lsoa_code, force_code (from `Falls within`, else the
force area of the point), crime_id, month. Rows without coordinates are counted and dropped.
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from workbench import config, reference
from workbench.hotspots.events import HotspotError

REQUIRED = ("Month", "Longitude", "Latitude", "Crime type")
COLUMNS = ("Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location", "LSOA code",
           "LSOA name", "Crime type", "Last outcome category", "Context")
SAMPLE_DIR = config.data_dir("sample_data") / "police_uk"
_MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def expand(paths) -> list[Path]:
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found += sorted(q for q in p.rglob("*.csv") if q.is_file())
        elif p.is_file():
            found.append(p)
        else:
            raise HotspotError(f"{p}: no such file or directory")
    if not found:
        raise HotspotError(f"no CSV files found in {', '.join(map(str, paths))}")
    return found


def read_street_csv(path: Path, crime_type: str | None = "Shoplifting") -> tuple[pd.DataFrame, int]:
    """One file -> (events, rows dropped for lacking coordinates)."""
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise HotspotError(f"{path}: not a readable police.uk street-level CSV ({str(exc).splitlines()[0]})") from None
    raw.columns = [str(c).strip() for c in raw.columns]
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise HotspotError(f"{path}: not a police.uk street-level CSV: missing column(s) {', '.join(missing)}")
    if crime_type:
        raw = raw[raw["Crime type"].str.strip().str.lower() == crime_type.lower()]
    bad = raw.loc[~raw["Month"].str.strip().str.match(_MONTH_RE), "Month"]
    if len(bad):
        row = int(bad.index[0]) + 2
        raise HotspotError(f"{path}: row {row}: Month {bad.iloc[0]!r} is not YYYY-MM")
    lat = pd.to_numeric(raw["Latitude"], errors="coerce")
    lon = pd.to_numeric(raw["Longitude"], errors="coerce")
    ok = lat.notna() & lon.notna()
    raw, lat, lon = raw[ok], lat[ok], lon[ok]
    falls = raw["Falls within"] if "Falls within" in raw.columns else pd.Series("", index=raw.index)
    codes = {name: reference.resolve_force(name) for name in falls.unique()}
    out = pd.DataFrame({
        "crime_id": raw.get("Crime ID", pd.Series("", index=raw.index)).replace("", None).to_numpy(dtype=object),
        "month": raw["Month"].str.strip().to_numpy(dtype=object),
        "occurred_at": pd.to_datetime(raw["Month"].str.strip() + "-01").to_numpy(),
        "latitude": lat.to_numpy(), "longitude": lon.to_numpy(),
        "lsoa_code": raw.get("LSOA code", pd.Series("", index=raw.index)).replace("", None).to_numpy(dtype=object),
        "force_code": falls.map(codes).to_numpy(dtype=object),
        "offence_type": raw["Crime type"].to_numpy(dtype=object),
        "location": raw.get("Location", pd.Series("", index=raw.index)).to_numpy(dtype=object),
        "source_file": path.name,
    })
    return out, int((~ok).sum())


def read_street_csvs(paths=None, crime_type: str | None = "Shoplifting") -> pd.DataFrame:
    """Any number of police.uk street-level CSVs (default: the shipped West Yorkshire sample)."""
    files = expand(paths if paths is not None else SAMPLE_DIR)
    frames, dropped = [], 0
    for f in files:
        frame, d = read_street_csv(f, crime_type)
        frames.append(frame)
        dropped += d
    events = pd.concat(frames, ignore_index=True)
    if events.empty:
        raise HotspotError(f"no {crime_type or 'crime'} rows with coordinates in {len(files)} police.uk file(s)")
    events.attrs.update({"files": len(files), "rows_without_location": dropped})
    return events


def from_store(store, crime_type: str = "Shoplifting", force_code: str | None = None) -> pd.DataFrame:
    """police.uk rows already loaded into the store (`workbench ingest` with the police_uk_street mapping)."""
    frame = store.query("hotspots_recorded_events", crime_type=crime_type, force_code=force_code)
    if frame.empty:
        raise HotspotError(f"no police.uk {crime_type} rows in the store's recorded_crimes"
                           + (f" for force {force_code}" if force_code else "") + "; load them with `workbench ingest`")
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"])
    return frame
