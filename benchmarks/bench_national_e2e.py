"""The whole pipeline end to end at national scale: sample world, ingest, enrich, hotspots, linkage, groups,
cross-border, one package, MoPI review dates and a Parquet export, each stage through the `workbench` CLI as an
analyst runs it, in its own process (benchmarks.common.measure: wall time and peak RSS per stage).

Full run: the scale-200 world (about 10M incidents) beside the scale-1 world (`make demo`, about 50k) in the
same run, so each stage's growth factor is read against the same machine on the same day. Quick: scale 0.1
beside scale 0.2 (a check that the path works). Results are appended stage by stage, so a run stopped part
way still records what it measured (`<out>/national_e2e.partial.json`).

    python -m benchmarks.run national_e2e            # about two hours on 2 cores
    python -m benchmarks.run --quick national_e2e

A run of hours can be resumed: with WORKBENCH_BENCH_E2E_WORK=DIR the worlds and stores are kept in DIR (not a
temporary folder) and a stage already recorded without error in DIR's own partial file, for the same scale, is
not run again: its record is carried over with `resumed: true` and the time it was measured. Each stage is its
own process reading the previous stage's files, so a resumed stage measures exactly what an unbroken run would.
Delete a stage's record from that file to measure it (and every stage after it) again; from the ingest on, the
store is then built anew.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from benchmarks.common import measure

IN_DEFAULT_RUN = "quick"     # full sizes only when named: the scale-200 world alone takes half an hour
FULL_SCALES = (1.0, 200.0)
QUICK_SCALES = (0.1, 0.2)
PURPOSE = "benchmark: end-to-end national-scale timing on the synthetic sample world"
# the stages whose output every later one reads; a product stage that fails (a map over its size bound, say) is
# recorded with its error and the run goes on to the next
PREREQUISITES = {"sample", "ingest", "geo_enrich", "link_run"}


def _cli(args: list[str]) -> dict:
    """One workbench command in this (measured) process; its exit code and the tail of what it printed."""
    import contextlib
    import io

    from workbench.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    result = {"exit_code": code, "stdout_tail": out.getvalue()[-400:], "stderr_tail": err.getvalue()[-400:]}
    if "--json" in args and code == 0:
        result["json"] = json.loads(out.getvalue())   # e.g. link run's stages: which part of the stage dominates
    return result


def _counts(db: str) -> dict:
    from workbench.store import open_store

    with open_store(db, read_only=True) as store:
        counts = dict(store.table_counts().itertuples(index=False, name=None))
    keep = ("incidents", "referrals", "person_mentions", "vehicle_mentions", "persons", "vehicles", "groups",
            "quarantine")
    return {k: counts.get(k) for k in keep if k in counts} | {"db_mb": round(Path(db).stat().st_size / 1e6, 1)}


def stages(root: Path, scale: float) -> list[tuple[str, list[str]]]:
    world, db, out = root / "world", root / "workbench.duckdb", root / "out"
    d = ["--db", str(db)]
    return [
        ("sample", ["sample", "--seed", "42", "--scale", str(scale), "--out", str(world)]),
        ("ingest", ["ingest", str(world / "extracts"), *d]),
        ("geo_enrich", ["geo", "enrich", *d]),
        ("hotspots_plan_one_force", ["hotspots", "plan", "--force", "West Yorkshire", "--period", "next-week",
                                     "--out", str(out / "plan"), *d]),
        ("hotspots_map_national", ["hotspots", "map", "--out", str(out / "hotspots.html"), *d]),
        ("link_run", ["link", "run", "--json", *d]),
        ("crossborder_render", ["crossborder", "render", "--most-cross-border", "--out", str(out / "crossborder"), *d]),
        ("crossborder_tactics", ["crossborder", "tactics", "--out", str(out / "crossborder"), *d]),
        ("package_build", ["package", "build", "--most-cross-border", "--out", str(out / "package"),
                           "--purpose", PURPOSE, *d]),
        # information management at the same volume: MoPI review dates brought up to date and listed, and the
        # canonical tables exported as Parquet for other tools (issue 15 items 3 and 5)
        ("review_due", ["review", "due", "--as-of", "2030-01-01", "--limit", "20", *d]),
        ("export_parquet", ["export", "parquet", "--out", str(out / "parquet"), "--purpose", PURPOSE, *d]),
    ]


def _record(scale: float, name: str, m: dict) -> dict:
    result = m.get("result") or {}
    error = m.get("error") or (None if result.get("exit_code") == 0 else
                               f"exit {result.get('exit_code')}: {result.get('stderr_tail', '').strip()[-200:]}")
    record = {"scale": scale, "stage": name, "wall_s": m["wall_s"], "peak_rss_mb": m["peak_rss_mb"],
              "error": error, "output_tail": result.get("stdout_tail", "")[-200:]}
    if isinstance(result.get("json"), list):   # link run: each entity's stages, without its long tables
        record["output_tail"] = ""
        record["substages"] = [{"entity": r.get("entity"), "records": r.get("records"), "entities": r.get("entities"),
                                "stages": r.get("stages")} for r in result["json"] if isinstance(r, dict)]
    return record


def _done_before(work: Path | None) -> dict[tuple[float, str], dict]:
    """Stages a kept working folder already measured without error: (scale, stage) -> record."""
    if work is None or not (work / "national_e2e.partial.json").exists():
        return {}
    try:
        earlier = json.loads((work / "national_e2e.partial.json").read_text())
    except ValueError:
        return {}
    return {(r["scale"], r["stage"]): r for r in earlier
            if isinstance(r, dict) and "wall_s" in r and not r.get("error")}


def run(out_dir, quick: bool) -> list[dict]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    partial = out_dir / "national_e2e.partial.json"
    kept = os.environ.get("WORKBENCH_BENCH_E2E_WORK")
    work = Path(kept) if kept else None
    done = _done_before(work)
    records: list[dict] = []
    tmp = work or Path(tempfile.mkdtemp(prefix="wb-bench-e2e-"))
    tmp.mkdir(parents=True, exist_ok=True)

    def save():
        text = json.dumps(records, indent=2, default=str)
        partial.write_text(text)
        if work is not None:
            (work / "national_e2e.partial.json").write_text(text)

    try:
        for scale in (QUICK_SCALES if quick else FULL_SCALES):
            root = tmp / f"scale_{scale:g}"
            resuming = work is not None and any(s == scale for s, _ in done)
            if not resuming:
                shutil.rmtree(root, ignore_errors=True)
            root.mkdir(exist_ok=True)
            for name, args in stages(root, scale):
                if resuming and (scale, name) in done:
                    record = {**done[(scale, name)], "resumed": True}
                else:
                    if resuming and name in ("sample", "ingest"):   # re-run from here: start from no store
                        shutil.rmtree(root / "out", ignore_errors=True)
                        for db_file in root.glob("workbench.duckdb*"):
                            db_file.unlink()
                        if name == "sample":
                            shutil.rmtree(root / "world", ignore_errors=True)
                    resuming = False   # from the first stage re-run on, every later stage runs again
                    measure_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                    record = {**_record(scale, name, measure(_cli, args)), "measured_at": measure_at}
                records.append(record)
                save()
                if record["error"] and name in PREREQUISITES:
                    break  # every later stage needs this one's output
            if not any(r["error"] for r in records if r["scale"] == scale and r["stage"] in PREREQUISITES):
                records.append({"scale": scale, "stage": "store", **measure(_counts, str(root / "workbench.duckdb"))
                                .get("result", {})})
            if work is None:
                shutil.rmtree(root, ignore_errors=True)
        records.append(_summary(records))
        return records
    finally:
        if work is None:
            shutil.rmtree(tmp, ignore_errors=True)
        save()


def _summary(records: list[dict]) -> dict:
    """Per scale: total wall time, the dominant stage and its share; per stage, the growth factor between the
    smallest and the largest scale (the baseline is the small world in the same run)."""
    by_scale: dict[float, dict[str, dict]] = {}
    for r in records:
        if "wall_s" in r:
            by_scale.setdefault(r["scale"], {})[r["stage"]] = r
    out = {"stage": "summary", "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "scales": {}}
    for scale, st in by_scale.items():
        total = sum(r["wall_s"] for r in st.values())
        top = max(st.values(), key=lambda r: r["wall_s"])
        out["scales"][str(scale)] = {"total_wall_s": round(total, 1), "peak_rss_mb": max(r["peak_rss_mb"] for r in st.values()),
                                     "dominant_stage": top["stage"], "dominant_share": round(top["wall_s"] / total, 3),
                                     "complete": not any(r["error"] for r in st.values())}
    if len(by_scale) >= 2:
        lo, hi = min(by_scale), max(by_scale)
        out["growth_x"] = {name: round(by_scale[hi][name]["wall_s"] / by_scale[lo][name]["wall_s"], 1)
                           for name in by_scale[hi] if name in by_scale[lo] and by_scale[lo][name]["wall_s"] > 0}
    return out
