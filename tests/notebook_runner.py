"""Execute a curated notebook (a jupytext script) headless with papermill, as CI does."""
from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"


CELL_TIMEOUT_S = 300
ATTEMPTS = 2


def execute(script: Path, workdir: Path, parameters: dict) -> str:
    """Run the notebook with these parameters; fail on any error output; return all text it printed.

    A cell that never answers (a known, rare hang of papermill/nbclient waiting on a kernel that has
    gone idle, seen under load) times out and the whole notebook is run once more from a fresh kernel;
    a notebook that raises fails at once.
    """
    import jupytext
    import nbformat
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    from tests import gt_guard

    nb = jupytext.read(script)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    source, out = workdir / f"{script.stem}.ipynb", workdir / f"{script.stem}_out.ipynb"
    nbformat.write(nb, source)
    # the kernel (a separate process) runs the ground-truth guard in strict mode: a notebook cell, a widget or
    # the library opening anything under a ground_truth/ folder fails the run (tests/gt_guard.py)
    guard_log = workdir / f"{script.stem}_ground_truth_guard.jsonl"
    guard_log.unlink(missing_ok=True)
    saved = dict(os.environ)
    os.environ.update(gt_guard.subprocess_env(guard_log, strict_mode=True))
    try:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                papermill.execute_notebook(str(source), str(out), parameters=parameters, kernel_name="python3",
                                           cwd=str(NOTEBOOKS), progress_bar=False, start_timeout=120,
                                           execution_timeout=CELL_TIMEOUT_S)
                break
            except (CellTimeoutError, DeadKernelError, TimeoutError):
                if attempt == ATTEMPTS:
                    raise
    except papermill.PapermillExecutionError:
        _raise_guard(guard_log)
        raise
    finally:
        os.environ.clear()
        os.environ.update(saved)
    _raise_guard(guard_log)
    outputs = [o for c in nbformat.read(out, as_version=4).cells if c.cell_type == "code" for o in c.get("outputs", [])]
    errors = [o for o in outputs if o.get("output_type") == "error"]
    assert not errors, errors
    return "\n".join(str(o.get("data", {}).get("text/plain", "")) + str(o.get("text", "")) for o in outputs)


def _raise_guard(log: Path) -> None:
    from tests import gt_guard

    found, _ = gt_guard.read_log(log)
    if found:
        raise AssertionError("ground-truth guard: the notebook kernel read ground truth\n"
                             + "\n".join("  " + gt_guard.describe(v) for v in found[:10]))


def assert_paired_without_outputs(script: Path) -> None:
    """The committed .ipynb has no outputs, the same cells as its script, and a parameters cell."""
    import jupytext

    paired = jupytext.read(script.with_suffix(".ipynb"))
    assert all(not c.get("outputs") for c in paired.cells if c.cell_type == "code")
    assert [c.source for c in paired.cells] == [c.source for c in jupytext.read(script).cells]
    assert any("parameters" in c.get("metadata", {}).get("tags", []) for c in paired.cells)
