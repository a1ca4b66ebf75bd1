"""Installs the ground-truth guard (tests/gt_guard.py) in a Python process started by the tests.

On PYTHONPATH only while the tests run (tests/conftest.py puts it there for subprocesses; tests/notebook_runner.py
for notebook kernels, in strict mode). Never raises: a process without the variables set is left alone.
"""
import os

_guard = os.environ.get("WORKBENCH_GT_GUARD")
if _guard:
    try:
        import importlib.util

        import sys

        # registered under its own name, so that a pytest process started this way (an xdist worker) uses this
        # very module from tests/conftest.py: one hook, one record of violations, one GroundTruthRead class
        _spec = importlib.util.spec_from_file_location("tests.gt_guard", _guard)
        _module = importlib.util.module_from_spec(_spec)
        sys.modules["tests.gt_guard"] = _module
        _spec.loader.exec_module(_module)
        _module.install()
    except Exception as _exc:  # a broken guard must not break the process it watches; say so once
        import sys

        print(f"ground-truth guard not installed: {_exc}", file=sys.stderr)
