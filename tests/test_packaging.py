"""pyproject.toml, environment.yml and constraints.txt declare the same pinned packages."""
from __future__ import annotations

import tomllib

import yaml

from tests.conftest import REPO


def _pins() -> dict[str, str]:
    pins = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower().replace("_", "-")] = version
    return pins


def test_environment_yml_matches_pyproject_and_constraints():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = [d.lower() for d in project["dependencies"] + project["optional-dependencies"]["dev"]]
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_section = next(d for d in env["dependencies"] if isinstance(d, dict))["pip"]
    env_pins = dict(p.split("==") for p in pip_section if "==" in p)
    assert sorted(env_pins) == sorted(declared)
    pins = _pins()
    for name, version in env_pins.items():
        assert pins[name] == version, f"{name}: environment.yml {version} vs constraints.txt {pins[name]}"


def test_every_declared_dependency_is_pinned():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pins = _pins()
    missing = [d for d in project["dependencies"] + project["optional-dependencies"]["dev"] if d.lower() not in pins]
    assert not missing
