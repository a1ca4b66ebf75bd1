"""Build step for the wheel: copy the checkout's top-level queries/ and sample_data/ into the package.

The project layout keeps the SQL and the derived open data as readable top-level folders; a wheel
carries them as workbench/_data/queries and workbench/_data/sample_data, where
workbench.config.data_dir() finds them with importlib.resources (an editable install reads the
checkout's folders instead). Everything else is declared in pyproject.toml.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
DATA_DIRS = ("queries", "sample_data")      # keep in step with workbench.config.DATA_DIRS


class build_py_with_data(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return                          # editable: the package reads the checkout's folders
        for name in DATA_DIRS:
            source = HERE / name
            if not source.is_dir():         # building from an sdist that lacks them would ship a broken wheel
                raise SystemExit(f"{source}: missing; the wheel must carry {name}/")
            target = Path(self.build_lib) / "workbench" / "_data" / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"))


setup(cmdclass={"build_py": build_py_with_data})
