"""One place for configuration: packaged defaults, overridden by the YAML file named in WORKBENCH_CONFIG."""
from __future__ import annotations

import copy
import os
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from workbench.errors import ConfigError

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent          # the source checkout (scripts/, notebooks/); absent in a wheel install
DEFAULTS_FILE = PACKAGE_DIR / "config" / "defaults.yaml"
REFERENCE_DIR = PACKAGE_DIR / "reference"
DATA_DIRS = ("queries", "sample_data")  # top-level folders of the checkout, shipped as workbench/_data/<name> in a wheel


def data_dir(name: str) -> Path:
    """`queries/` or `sample_data/`: inside the installed package (a wheel puts them under workbench/_data/)
    or beside the package in a source checkout (editable install); docs/decisions.md entry 10."""
    if name not in DATA_DIRS:
        raise ValueError(f"unknown data folder {name!r}: one of {DATA_DIRS}")
    packaged = resources.files("workbench") / "_data" / name
    if packaged.is_dir():
        return Path(str(packaged))
    return REPO_DIR / name


def _merge(base: dict, override: dict) -> dict:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"configuration file {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"configuration file {path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"configuration file {path} must hold a mapping at the top level")
    return data


def layered_settings(name: str, env: str, overrides: dict | None = None, path: str | Path | None = None) -> dict:
    """A capability's settings file `config/<name>.yaml`, then the file in `env` (or `path`), then `overrides`,
    merged key by key: one layering rule for every capability's settings."""
    raw = _read_yaml(PACKAGE_DIR / "config" / f"{name}.yaml")
    extra = path or os.environ.get(env)
    if extra:
        raw = _merge(raw, _read_yaml(Path(extra)))
    if overrides:
        raw = _merge(raw, overrides)
    return raw


@lru_cache(maxsize=4)
def _load(override_path: str | None) -> dict:
    settings = _read_yaml(DEFAULTS_FILE)
    if override_path:
        settings = _merge(settings, _read_yaml(Path(override_path)))
    return settings


def settings() -> dict[str, Any]:
    """The effective settings (a fresh copy, so callers cannot mutate the cache)."""
    return copy.deepcopy(_load(os.environ.get("WORKBENCH_CONFIG") or None))


def get(dotted_key: str, default: Any = None) -> Any:
    node: Any = settings()
    for part in dotted_key.split("."):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


TRAINING_MARKING = "TRAINING - NOT REAL INTELLIGENCE"
_TRAINING: dict[str, str | None] = {"store": None}  # the training store that put this process in training mode


def enter_training(store_path: str) -> None:
    """Training mode for this process (workbench.training, docs/training.md): every product is marked
    TRAINING_MARKING in place of the security marking; open_store refuses a non-training store until left."""
    _TRAINING["store"] = str(store_path)


def leave_training() -> None:
    _TRAINING["store"] = None


def training_store() -> str | None:
    """The training store that put this process in training mode, or None."""
    return _TRAINING["store"]


def security_marking() -> str:
    """The marking printed top and bottom of every product, e.g. OFFICIAL-SENSITIVE (TRAINING_MARKING while a
    training store is open in this process)."""
    if _TRAINING["store"] is not None:
        return TRAINING_MARKING
    marking = get("markings.classification", "OFFICIAL")
    caveat = get("markings.caveat")
    return f"{marking}-{caveat}" if caveat else marking


def default_db_path() -> Path:
    return Path(os.environ.get("WORKBENCH_DB") or get("store.default_path", "out/workbench.duckdb"))
