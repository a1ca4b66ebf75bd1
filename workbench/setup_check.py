"""Set-up checks for notebook 00 (Start here): is this machine ready for the curated notebooks, and if not, what
to run. Each check is one row (check, ok, detail, how_to_fix) so a user reads the table top to bottom and never a
traceback: a check that cannot be made is itself a failed row.

    from workbench import setup_check
    setup_check.run(db_path="out/workbench.duckdb")      # a DataFrame, one row per check
"""
from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

import pandas as pd

COLUMNS = ["check", "ok", "detail", "how_to_fix"]
# tables whose rows the notebooks need, in the order the pipeline fills them; each with the step that fills it
STORE_CONTENT = (
    ("referrals", "notebook 01, 02", "make demo (or workbench ingest DIR)"),
    ("groups", "notebooks 03, 04, 05", "workbench link run (make demo runs it)"),
)
VOILA_TEMPLATE = "workbench"


def _row(check: str, ok: bool, detail: str, fix: str = "") -> dict:
    return {"check": check, "ok": bool(ok), "detail": detail, "how_to_fix": "" if ok else fix}


def versions() -> list[dict]:
    """Versions of what the notebooks run on (for a bug report), each an ok row."""
    import duckdb

    import workbench
    from workbench.store import latest_version

    rows = [_row("workbench version", True, workbench.__version__),
            _row("python version", True, platform.python_version()),
            _row("duckdb version", True, duckdb.__version__),
            _row("schema version (this workbench)", True, str(latest_version()))]
    for module in ("jupyterlab", "ipywidgets", "voila", "plotly"):
        try:
            rows.append(_row(f"{module} version", True, __import__(module).__version__))
        except ImportError:
            rows.append(_row(f"{module} version", False, f"{module} is not installed", "make setup"))
    return rows


def check_store(db_path: str | Path) -> list[dict]:
    """The store exists, opens read-only (never created or migrated here), has this workbench's schema, and holds
    what the notebooks read."""
    from workbench.errors import WorkbenchError
    from workbench.store import latest_version, open_store

    path = Path(db_path)
    if not path.is_file():
        return [_row("store present", False, f"no store at {path}",
                     "make demo (builds out/workbench.duckdb from the sample world), or set db_path")]
    try:
        store = open_store(path, read_only=True, migrate=False)
    except (WorkbenchError, OSError) as exc:
        message = str(exc).splitlines()[0]
        if "needs migrating" in message:          # an older schema: read-only opening refuses, nothing is changed
            return [_row("store present", True, str(path)),
                    _row("store schema version", False, f"older than this workbench's {latest_version()}: {message}",
                         f"workbench db init --db {path} (applies the newer migrations)")]
        return [_row("store present", False, f"{path} cannot be opened: {message}",
                     "close other programs using it, or rebuild it with make demo")]
    try:
        rows = [_row("store present", True, f"{path} ({path.stat().st_size / 1e6:.1f} MB)")]
        have, want = store.schema_version(), latest_version()
        rows.append(_row("store schema version", have == want, f"store {have}, this workbench {want}",
                         f"workbench db init --db {path} (applies the newer migrations)" if have < want
                         else "upgrade the workbench (the store is newer than it)"))
        tables = set(store.con.execute("SELECT table_name FROM information_schema.tables").df().table_name)
        for table, used_by, fix in STORE_CONTENT:
            count = store.con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] if table in tables else 0
            rows.append(_row(f"store has {table}", count > 0, f"{count:,} rows ({used_by})", fix))
        return rows
    finally:
        store.close()


def check_map_assets(assets_dir: str | Path | None = None) -> list[dict]:
    """Every file the offline maps and link charts inline (maps_assets.lock.json) is in the assets folder."""
    from workbench import maps

    folder = Path(assets_dir) if assets_dir else maps.assets_dir()
    lock = json.loads(maps.LOCK_FILE.read_text())
    missing = [f"{p['name']}@{p['version']}/{rel}" for p in lock["packages"] for rel in sorted(set(p["urls"].values()))
               if not (folder / f"{p['name']}@{p['version']}" / rel).is_file()]
    total = sum(len(set(p["urls"].values())) for p in lock["packages"])
    if not folder.is_dir():
        return [_row("map assets present", False, f"no assets folder at {folder}", "make assets")]
    detail = f"{total - len(missing)} of {total} files in {folder}" + (f"; missing {', '.join(missing[:3])}"
                                                                      + (" ..." if len(missing) > 3 else "")
                                                                      if missing else "")
    return [_row("map assets present", not missing, detail, "make assets")]


def voila_template_dir(prefix: str | Path | None = None) -> Path:
    return Path(prefix or sys.prefix) / "share" / "jupyter" / "voila" / "templates" / VOILA_TEMPLATE


def check_voila_template(prefix: str | Path | None = None) -> list[dict]:
    """The offline Voila template (its page and Font Awesome) is installed: dashboards then ask nothing of a CDN."""
    folder = voila_template_dir(prefix)
    page = (folder / "index.html.j2").is_file()
    fonts = list((folder / "static" / "fontawesome-free" / "webfonts").glob("*.woff2")) if page else []
    if not page:
        detail = f"not installed at {folder}"
    elif not fonts:
        detail = f"{folder} has no Font Awesome fonts"
    else:
        detail = f"{folder} ({len(fonts)} fonts)"
    return [_row("voila offline template", page and bool(fonts), detail, "make assets")]


def check_chromium(path: str | None = None) -> list[dict]:
    """Debian chromium, which map PNGs, briefing PDFs and the browser tests use."""
    from workbench import maps
    from workbench.errors import WorkbenchError

    try:
        found = path if path is not None else maps.chromium_executable()
    except WorkbenchError as exc:
        return [_row("chromium present", False, str(exc), "make browser")]
    if not Path(found).is_file():
        return [_row("chromium present", False, f"not found at {found}", "make browser")]
    return [_row("chromium present", True, found)]


def run(db_path: str | Path | None = None, assets_dir: str | Path | None = None,
        voila_prefix: str | Path | None = None, chromium: str | None = None) -> pd.DataFrame:
    """Every check, problems first (ok False), then the versions."""
    from workbench import config

    rows = [*check_store(db_path or config.default_db_path()), *check_map_assets(assets_dir),
            *check_voila_template(voila_prefix), *check_chromium(chromium), *versions()]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.sort_values("ok", kind="stable").reset_index(drop=True)


def problems(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[~frame.ok].reset_index(drop=True)
