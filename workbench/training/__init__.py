"""Training mode (issue 14): a separate, pseudonymised training store built from the sample world, marked
"TRAINING - NOT REAL INTELLIGENCE" on every product, and reset to its starting state between sessions.

    from workbench import training
    info = training.build("out/sample.duckdb", "out/training", case="cross-border", seed=1)
    store = training.open_training("out/training")        # refuses a store that is not a training store
    training.arriving_extract("out/training")              # the referrals the demonstration ingests
    training.reset("out/training")                         # back to the starting state (the pristine copy)

Layout of a training folder: training.duckdb (the store a session uses), pristine.duckdb (its starting state),
extracts/ (the pseudonymised case as ingested), arriving/ (referrals still to arrive), case.json.
Opening a training store puts the process in training mode (workbench.store.open_store,
workbench.config.security_marking); a real store is then refused until a new session (docs/training.md).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb

from workbench import config
from workbench.errors import WorkbenchError
from workbench.store import TRAINING_TABLE, open_store, utcnow
from workbench.training.case import CASES, TRAINING_MARKING, case_spec, forms, gather, select_case, write_extracts

STORE_NAME = "training.duckdb"
PRISTINE_NAME = "pristine.duckdb"

__all__ = ["CASES", "STORE_NAME", "TRAINING_MARKING", "arriving_extract", "build", "case_info", "is_training_file",
           "open_training", "reset", "store_path"]


def store_path(folder) -> Path:
    folder = Path(folder)
    return folder if folder.suffix == ".duckdb" else folder / STORE_NAME


def is_training_file(path) -> bool:
    """True when `path` is a DuckDB file holding a training case (read without opening it as a store)."""
    path = Path(path)
    if not path.is_file():
        return False
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise WorkbenchError(f"{path} cannot be read as a store: {str(exc).splitlines()[0]}") from None
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()}
        return TRAINING_TABLE in tables and con.execute(f"SELECT count(*) FROM {TRAINING_TABLE}").fetchone()[0] > 0
    finally:
        con.close()


def _refuse_real(path: Path, verb: str) -> None:
    if path.exists() and not is_training_file(path):
        raise WorkbenchError(f"training {verb}: {path} is not a training store; training commands never touch "
                             "real data")


def build(source_db, out_dir, case: str = "cross-border", seed: int = 1) -> dict:
    """Build the training case `case` from `source_db` (a resolved sample-world store) into `out_dir`."""
    spec = case_spec(case)
    out_dir = Path(out_dir)
    target = store_path(out_dir)
    _refuse_real(target, "build")
    if config.training_store() is not None:
        raise WorkbenchError("training build: this session is in training mode; build from a new session")
    source_db = Path(source_db)
    if is_training_file(source_db):
        raise WorkbenchError(f"training build: the source {source_db} is itself a training store; build from the "
                             "sample world's store")
    with open_store(source_db, read_only=True) as src:
        selection = select_case(src, spec)
        rows = gather(src, selection)
    start, arriving, directory = forms(rows, selection, seed)
    for old in (target, out_dir / PRISTINE_NAME, out_dir / "extracts", out_dir / "arriving"):
        if old.is_dir():
            shutil.rmtree(old)
        else:
            old.unlink(missing_ok=True)
            Path(str(old) + ".wal").unlink(missing_ok=True)
    paths = write_extracts(out_dir, start, arriving, directory)
    info = {"case": spec.name, "seed": str(seed), "source_group": selection["group"],
            "group_incidents": str(len(selection["group_incidents"])), "background": str(len(selection["background"])),
            "mo_incidents": str(len(selection["mo"])), "arriving": str(len(arriving)), "built_at": utcnow().isoformat()}
    _load(target, paths, info)
    config.leave_training()  # loading made this process a training session; the builder leaves it
    shutil.copyfile(target, out_dir / PRISTINE_NAME)
    (out_dir / "case.json").write_text(json.dumps({**info, "description": spec.description,
                                                    "marking": TRAINING_MARKING}, indent=1), encoding="utf-8")
    return {**info, "store": str(target), "arriving_file": str(paths["arriving"])}


def _load(target: Path, paths: dict, info: dict) -> None:
    from workbench.ingest import ingest_file
    from workbench.linkage.run import run_all

    with open_store(target) as store:
        store.con.execute(f"CREATE TABLE {TRAINING_TABLE} (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)")
        store.con.executemany(f"INSERT INTO {TRAINING_TABLE} VALUES (?, ?)", sorted(info.items()))
        config.enter_training(str(target))
        ingest_file(store, paths["directory"], source="store_directory")
        ingest_file(store, paths["start"], source="force_opal_form")
        run_all(store)
        store.audit("training-build", str(target), {k: v for k, v in info.items() if k != "built_at"})
        store.con.execute("CHECKPOINT")


def open_training(folder, read_only: bool = False):
    """The training store of `folder` (or a .duckdb path); refuses a store that is not a training store."""
    path = store_path(folder)
    if not path.exists():
        raise WorkbenchError(f"no training store at {path}: build one with `workbench training build`")
    if not is_training_file(path):
        raise WorkbenchError(f"training mode refuses {path}: it is not a training store")
    return open_store(path, read_only=read_only)


def case_info(store) -> dict:
    return dict(store.query("training/case_info").itertuples(index=False, name=None))


def arriving_extract(folder) -> Path:
    folder = Path(folder)
    folder = folder.parent if folder.suffix == ".duckdb" else folder
    return folder / "arriving" / "force_referral_forms_arriving.json"


def reset(folder) -> dict:
    """Restore the training store to its starting state from the pristine copy (close it everywhere first)."""
    target = store_path(folder)
    pristine = target.parent / PRISTINE_NAME
    _refuse_real(target, "reset")
    if not pristine.exists() or not is_training_file(pristine):
        raise WorkbenchError(f"training reset: no pristine training copy at {pristine}; build the case again")
    Path(str(target) + ".wal").unlink(missing_ok=True)
    tmp = target.with_suffix(".resetting")
    shutil.copyfile(pristine, tmp)
    tmp.replace(target)
    return {"store": str(target), "restored_from": str(pristine)}
