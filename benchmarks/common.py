"""Measurement helpers: wall time and peak memory of a step, measured in a child process.

Peak memory is the child's maximum resident set (ru_maxrss), so each measured step runs in its own
process and one step's allocations never inflate another's figure.
"""
from __future__ import annotations

import json
import multiprocessing as mp
import platform
import resource
import time
from pathlib import Path
from typing import Any, Callable


def _child(fn: Callable, args: tuple, kwargs: dict, queue) -> None:
    start = time.perf_counter()
    try:
        result = fn(*args, **kwargs)
        error = None
    except Exception as exc:  # reported, not raised, so the parent records the failure
        result, error = None, f"{type(exc).__name__}: {exc}"
    wall = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    queue.put({"wall_s": round(wall, 3), "peak_rss_mb": round(peak_kb / 1024, 1), "result": result, "error": error})


def measure(fn: Callable, *args, **kwargs) -> dict[str, Any]:
    """Run fn(*args, **kwargs) in a fresh process; return wall time, peak RSS and fn's (picklable) result."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(fn, args, kwargs, queue))
    proc.start()
    outcome = queue.get()
    proc.join()
    return outcome


def machine() -> dict[str, Any]:
    import os

    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()}


def write_results(out_dir: Path, name: str, records: list[dict]) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.json"
    payload = {"benchmark": name, "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "machine": machine(), "results": records}
    path.write_text(json.dumps(payload, indent=2, default=str))
    return path
