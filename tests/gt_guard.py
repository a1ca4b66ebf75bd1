"""Run-time ground-truth guard: no library code may read a sample world's `ground_truth/` folder.

The sample generator (workbench/sample/) writes the ground truth; tests and benchmarks read it to score the
workbench; the library (workbench/ outside sample/, widgets/, and in a notebook kernel the notebook's own
cells) must never touch it. A grep over the source cannot tell (a path held in a variable looks like any
other path), so this module watches at run time, in three places where a file can be reached by name:

- Python's audit events: `open` (builtins.open, io.open, os.open, pathlib), `glob.glob` with a pattern
  naming ground_truth, `shutil.copyfile` / `shutil.copytree` (a plain directory listing is not a read);
- pyarrow's readers (`pyarrow.parquet.read_table`, `ParquetFile`, `ParquetDataset`, `read_metadata`,
  `read_schema`, `pyarrow.dataset.dataset`, `pyarrow.csv.read_csv`, `pyarrow.json.read_json`), which open
  files in C++ and raise no audit event (pandas.read_parquet goes this way);
- DuckDB (`DuckDBPyConnection.execute/executemany/sql/query/read_*/from_*` and the module-level shortcuts):
  any SQL text or bound parameter naming a ground-truth path (read_parquet('.../ground_truth/...')).

Who is asking is decided from the Python stack: walking outward from the call, a frame of workbench/sample/
anywhere allows it (the generator, and library helpers it calls); otherwise the innermost frame that belongs
to the checkout decides: tests/ or benchmarks/ allow it, workbench/ or widgets/ is a violation. In strict
mode (notebook kernels) a stack with no test or generator frame at all is a violation too (notebook cells
have no file in the checkout). A violation raises GroundTruthRead at the call and is recorded (also as a JSON
line in $WORKBENCH_GT_GUARD_LOG, for subprocesses and kernels), so a library that swallows the exception
still fails the test. tests/conftest.py installs it for every test; tests/gt_guard_site/sitecustomize.py
installs it in every Python subprocess and notebook kernel the tests start.

Stdlib only at install time: duckdb and pyarrow are wrapped when they are (or once they get) imported.
"""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import json
import os
import sys
import threading
from pathlib import Path

REPO = Path(os.environ.get("WORKBENCH_GT_GUARD_REPO") or Path(__file__).resolve().parent.parent)
LOG_ENV, STRICT_ENV, REPO_ENV, SITE_ENV = ("WORKBENCH_GT_GUARD_LOG", "WORKBENCH_GT_GUARD_STRICT",
                                           "WORKBENCH_GT_GUARD_REPO", "WORKBENCH_GT_GUARD")
SITE_DIR = Path(__file__).resolve().parent / "gt_guard_site"
FOLDER = "ground_truth"
# (a plain directory listing is not a read: `workbench summary` globs */*.html under the store's folder and so
# lists a world's ground_truth/ beside it; a glob *pattern* naming ground_truth is a search for it, and is)
AUDIT_EVENTS = {"open", "glob.glob", "glob.glob/2", "shutil.copyfile", "shutil.copytree"}

PYARROW_READERS = {
    "pyarrow.parquet": ("read_table", "ParquetFile", "ParquetDataset", "read_metadata", "read_schema",
                       "read_pandas"),
    "pyarrow.dataset": ("dataset", "parquet_dataset"),
    "pyarrow.csv": ("read_csv", "open_csv"),
    "pyarrow.json": ("read_json",),
    "pyarrow.feather": ("read_table", "read_feather"),
}
DUCKDB_METHODS = ("execute", "executemany", "sql", "query", "read_parquet", "read_csv", "read_json",
                  "from_parquet", "from_csv_auto", "from_query")


class GroundTruthRead(RuntimeError):
    """Library code reached for the sample world's ground truth."""


_state = threading.local()
_lock = threading.Lock()
violations: list[dict] = []
_installed = False
strict = False


# -- who is asking --------------------------------------------------------------------------------------
def _part(filename: str) -> str | None:
    """'sample', 'library', 'test' or None (stdlib, site-packages other than ours, <string>, a notebook cell)."""
    if not filename or filename.startswith("<"):
        return None
    parts = Path(filename).parts
    if "site-packages" in parts:   # an installed (non-editable) workbench
        rel = parts[len(parts) - parts[::-1].index("site-packages"):]
    else:
        try:
            rel = Path(filename).resolve().relative_to(REPO).parts
        except ValueError:
            return None
    if not rel:
        return None
    if rel[0] == "workbench":
        return "sample" if len(rel) > 1 and rel[1] == "sample" else "library"
    if rel[0] == "widgets":
        return "library"
    if rel[0] in ("tests", "benchmarks"):
        return "test"
    return None


def _culprit(frame) -> str | None:
    """file:line of the library frame responsible, or None when the access is allowed."""
    library = None
    while frame is not None:
        code = frame.f_code
        if code.co_filename != __file__:
            kind = _part(code.co_filename)
            if kind == "sample":
                return None
            if kind == "test" and library is None:
                return None
            if kind == "library" and library is None:
                library = f"{code.co_filename}:{frame.f_lineno} ({code.co_name})"
        frame = frame.f_back
    if library is None and strict:
        return "a notebook cell or other code outside the checkout (strict mode)"
    return library


# -- what is asked for ----------------------------------------------------------------------------------
def _names_truth(value) -> str | None:
    """The value (a path, or text such as SQL) if it names something inside a ground_truth folder."""
    if isinstance(value, (list, tuple)):
        for item in value[:2000]:  # (parameters of an executemany: a path would be among the first rows)
            if (hit := _names_truth(item)) is not None:
                return hit
        return None
    if isinstance(value, dict):
        return _names_truth(list(value.values()))
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    elif isinstance(value, os.PathLike):
        value = os.fspath(value)
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
    if not isinstance(value, str) or FOLDER not in value:
        return None
    # a path component called ground_truth (not a column or file merely named like it)
    for sep in ("/", "\\"):
        if f"{sep}{FOLDER}{sep}" in value or value.endswith(f"{sep}{FOLDER}") or value.startswith(f"{FOLDER}{sep}") \
                or value == FOLDER or f"'{FOLDER}{sep}" in value or f'"{FOLDER}{sep}' in value:
            return value
    return None


def _check(kind: str, args, frame) -> None:
    if getattr(_state, "busy", False):
        return
    target = _names_truth(args)
    if target is None:
        return
    _state.busy = True
    try:
        culprit = _culprit(frame)
        if culprit is None:
            return
        record = {"via": kind, "path": target[:300], "by": culprit, "pid": os.getpid()}
        with _lock:
            violations.append(record)
        log = os.environ.get(LOG_ENV)
        if log:
            try:
                with open(log, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps(record) + "\n")
            except OSError:
                pass
    finally:
        _state.busy = False
    raise GroundTruthRead(describe(record))


def describe(record: dict) -> str:
    return (f"ground truth read by library code: {record['path']} via {record['via']} from {record['by']} "
            "(the library must never read a sample world's ground_truth/)")


# -- the three watch points -----------------------------------------------------------------------------
def _audit(event: str, args) -> None:
    if event in AUDIT_EVENTS and args:
        first = args[:2] if event.startswith("shutil") else args[:1]
        if event == "open" and isinstance(first[0], int):
            return  # an already open descriptor
        try:
            frame = sys._getframe(1)
        except ValueError:  # no Python frame at all: the interpreter itself opening the script it will run
            return
        _check(event, first, frame)


def _wrap(func, kind: str):
    if getattr(func, "_gt_guarded", False):
        return func

    if kind.startswith("duckdb"):
        def guarded(*_gt_args, **_gt_kwargs):
            _gt_caller = sys._getframe(1)
            _check(kind, list(_gt_args) + list(_gt_kwargs.values()), _gt_caller)
            # DuckDB resolves a table name it does not know from the innermost Python frame's variables (a
            # "replacement scan": SELECT * FROM _chunk finds a local pyarrow table). That frame is now this
            # one, so give it the caller's names (its globals, then its locals), as if there were no wrapper.
            _gt_names = sys._getframe().f_locals
            for _gt_key, _gt_value in (*_gt_caller.f_globals.items(), *_gt_caller.f_locals.items()):
                if not _gt_key.startswith("_gt_"):
                    _gt_names[_gt_key] = _gt_value
            del _gt_caller, _gt_names
            return func(*_gt_args, **_gt_kwargs)
    else:
        def guarded(*args, **kwargs):
            _check(kind, list(args) + list(kwargs.values()), sys._getframe(1))
            return func(*args, **kwargs)

    guarded._gt_guarded = True
    guarded.__wrapped__ = func
    guarded.__name__ = getattr(func, "__name__", kind)
    guarded.__doc__ = getattr(func, "__doc__", None)
    return guarded


def _wrap_attr(owner, attr: str, kind: str) -> None:
    """Wrap owner.attr; for a class, its __init__ (so isinstance and subclassing keep working)."""
    obj = getattr(owner, attr, None)
    if obj is None:
        return
    try:
        if isinstance(obj, type):
            if "__init__" in vars(obj) or obj.__init__ is not object.__init__:
                obj.__init__ = _wrap(obj.__init__, f"{kind}()")
        else:
            setattr(owner, attr, _wrap(obj, kind))
    except (TypeError, AttributeError):
        pass


def _patch_module(name: str, module) -> None:
    if name == "duckdb":
        cls = getattr(module, "DuckDBPyConnection", None)
        for attr in DUCKDB_METHODS:
            if cls is not None:
                _wrap_attr(cls, attr, f"duckdb.DuckDBPyConnection.{attr}")
            _wrap_attr(module, attr, f"duckdb.{attr}")
    for attr in PYARROW_READERS.get(name, ()):
        _wrap_attr(module, attr, f"{name}.{attr}")


WATCHED_MODULES = ("duckdb", *PYARROW_READERS)


class _Finder(importlib.abc.MetaPathFinder):
    """Wraps duckdb and pyarrow's readers as soon as they are imported (they may not be yet)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in WATCHED_MODULES or getattr(_state, "finding", False):
            return None
        _state.finding = True
        try:
            spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        finally:
            _state.finding = False
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        loader = spec.loader

        class _Loader(importlib.abc.Loader):
            def __getattr__(self, attr):  # everything else (resource readers, ...) from the real loader
                return getattr(loader, attr)

            def create_module(self, spec_):
                return loader.create_module(spec_)

            def exec_module(self, module):
                loader.exec_module(module)
                _patch_module(fullname, module)

        spec.loader = _Loader()
        return spec


def install(strict_mode: bool | None = None) -> None:
    """Install the guard in this process (idempotent)."""
    global _installed, strict
    strict = bool(os.environ.get(STRICT_ENV)) if strict_mode is None else strict_mode
    if _installed:
        return
    _installed = True
    sys.addaudithook(_audit)
    for name in WATCHED_MODULES:
        if name in sys.modules:
            _patch_module(name, sys.modules[name])
    sys.meta_path.insert(0, _Finder())


def take() -> list[dict]:
    """The violations recorded in this process since the last call (and forget them)."""
    with _lock:
        out = list(violations)
        violations.clear()
    return out


def read_log(path: Path | str, offset: int = 0) -> tuple[list[dict], int]:
    """Violations other processes appended to the log from byte `offset` on; and the new offset."""
    path = Path(path)
    if not path.exists():
        return [], offset
    data = path.read_bytes()
    lines = data[offset:].decode("utf-8", "replace").splitlines()
    return [json.loads(x) for x in lines if x.strip()], len(data)


def subprocess_env(log: Path | str, strict_mode: bool = False) -> dict:
    """Environment variables that install the guard in Python subprocesses (through sitecustomize)."""
    existing = os.environ.get("PYTHONPATH", "")
    paths = [str(SITE_DIR)] + [p for p in existing.split(os.pathsep) if p and p != str(SITE_DIR)]
    env = {"PYTHONPATH": os.pathsep.join(paths), LOG_ENV: str(log), REPO_ENV: str(REPO),
           SITE_ENV: str(Path(__file__).resolve())}
    if strict_mode:
        env[STRICT_ENV] = "1"
    return env
