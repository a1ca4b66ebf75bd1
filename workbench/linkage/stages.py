"""Wall time and memory per stage of a linkage run, so a slow or heavy run says which stage made it so.

    with recording() as stages:          # run_all does this; stages is a list of dicts
        with stage("train"):
            ...
    stages -> [{"stage": "train", "wall_s": 1.2, "cpu_s": 2.1, "peak_rss_mb": 640.0, "rss_end_mb": 610.0}, ...]

`stage(name)` costs nothing when no recording is active (library callers outside run_all). Memory is the
process's resident set (DuckDB runs in-process, so its buffers count), sampled every 50 ms by a thread during
the stage: the peak is of the whole process while the stage ran, not the stage's own allocations. CPU time
(user + system, all threads) is recorded beside wall time: on a shared machine wall time measures the
neighbours as much as the work. Nested stages
are recorded with their parent's name as a prefix ("persons/train").
"""
from __future__ import annotations

import contextlib
import contextvars
import resource
import threading
import time

_ACTIVE: contextvars.ContextVar[list | None] = contextvars.ContextVar("linkage_stages", default=None)
_PATH: contextvars.ContextVar[tuple] = contextvars.ContextVar("linkage_stage_path", default=())
SAMPLE_S = 0.05


def rss_mb() -> float:
    """Current resident set of this process in MB (Linux /proc; the peak so far elsewhere)."""
    try:
        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[1])
        return pages * resource.getpagesize() / 2 ** 20
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> float:
    """CPU time (user + system) of this process so far, every thread included (DuckDB's too)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class _Sampler(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.peak = rss_mb()
        self._done = threading.Event()

    def run(self):
        while not self._done.wait(SAMPLE_S):
            self.peak = max(self.peak, rss_mb())

    def finish(self) -> float:
        self._done.set()
        self.join()
        self.peak = max(self.peak, rss_mb())
        return self.peak


@contextlib.contextmanager
def recording():
    """Collect the stages run inside this block (a fresh list; nested recordings start their own)."""
    stages: list[dict] = []
    token = _ACTIVE.set(stages)
    path_token = _PATH.set(())
    try:
        yield stages
    finally:
        _PATH.reset(path_token)
        _ACTIVE.reset(token)


@contextlib.contextmanager
def stage(name: str, **facts):
    """Time one stage (and sample its memory) when a recording is active; `facts` (e.g. records=) are kept."""
    stages = _ACTIVE.get()
    if stages is None:
        yield {}
        return
    path = _PATH.get() + (name,)
    token = _PATH.set(path)
    row = {"stage": "/".join(path), **facts}
    stages.append(row)
    sampler = _Sampler()
    sampler.start()
    start, cpu = time.perf_counter(), _cpu_s()
    try:
        yield row
    finally:
        row["wall_s"] = round(time.perf_counter() - start, 3)
        row["cpu_s"] = round(_cpu_s() - cpu, 3)
        row["peak_rss_mb"] = round(sampler.finish(), 1)
        row["rss_end_mb"] = round(rss_mb(), 1)
        _PATH.reset(token)
