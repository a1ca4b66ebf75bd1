"""Mutation testing of the core modules with mutmut (`make mutation`; docs/testing.md, "Mutation testing").

Each module runs on its own, in a scratch copy of the checkout under out/mutation/<module>/ (mutmut reads its
configuration from the working folder and writes mutants/ there; the checkout is never touched), against the
test files that exercise it only, so one run takes minutes. Results: out/mutation/<module>.json (mutmut's
counts and every surviving mutant's name and diff) and out/mutation/summary.json.

    python scripts/mutation.py [MODULE ...]     (default: every module, smallest first)
    python scripts/mutation.py --list
    python scripts/mutation.py MODULE --survivors   (only the survivors of the last run, after adding kill tests;
                                                    the earlier run is kept as <module>.first.json and the
                                                    counts are merged: killed before + killed now)
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "out" / "mutation"
COPY = ("workbench", "widgets", "tests", "queries", "sample_data", "notebooks", "benchmarks", "pyproject.toml",
        "setup.py", "MANIFEST.in")

# module -> (source file, test files (or pytest node ids and options) run against its mutants). Fast, direct
# tests only; the slow end-to-end files (sample worlds, notebooks, browsers, CLI runs) are left to `make test`.
MODULES: dict[str, tuple[str, tuple[str, ...]]] = {
    "rules": ("workbench/ingest/rules.py", ("tests/test_config_overrides.py", "tests/test_ingest_pipeline.py")),
    "quarantine": ("workbench/ingest/quarantine.py", ("tests/test_ingest_pipeline.py",
                                                       "tests/test_ingest_quarantine_integrity.py",
                                                       "tests/test_mutants_quarantine.py")),
    "validate": ("workbench/ingest/validate.py", ("tests/test_mutants_validate.py",
                                                  "tests/test_ingest_security.py::test_inline_is_single_pass_and_"
                                                  "skips_string_literals",
                                                  "tests/test_ingest_security.py::test_inline_refuses_an_unknown_"
                                                  "parameter",
                                                  "tests/test_ingest_security.py::test_generated_sql_must_be_one_"
                                                  "statement")),
    "load": ("workbench/ingest/load.py", ("tests/test_mutants_load.py",)),
    "emerging": ("workbench/hotspots/emerging.py", ("tests/test_hotspots_stats.py", "tests/test_mutants_emerging.py",
                                                    "-k", "emerging")),
    "backtest": ("workbench/hotspots/backtest.py", ("tests/test_hotspots_forecast.py", "tests/test_mutants_backtest.py",
                                                    "--deselect", "tests/test_hotspots_forecast.py::"
                                                    "test_counts_sql_matches_python",
                                                    "--deselect", "tests/test_hotspots_forecast.py::"
                                                    "test_better_method_beats_naive_on_sample_world")),
    "gistar": ("workbench/hotspots/gistar.py", ("tests/test_hotspots_gistar.py", "tests/test_mutants_gistar.py",
                                                "tests/test_hotspots_stats.py::test_gistar_detects_planted_cluster",
                                                "tests/test_hotspots_stats.py::test_fdr_reduces_false_positives_on_noise",
                                                "--deselect", "tests/test_hotspots_gistar.py::"
                                                "test_hotspots_map_cli_seed_p_method_and_until")),
    "knox": ("workbench/hotspots/knox.py", ("tests/test_hotspots_knox.py", "tests/test_mutants_knox.py",
                                            "tests/test_hotspots_stats.py::test_knox_tiny_fixture_by_hand",
                                            "tests/test_hotspots_stats.py::test_knox_band_boundaries",
                                            "tests/test_hotspots_stats.py::test_knox_detects_planted_near_repeats")),
}

# module -> mutant name globs: only these functions are mutated (the rest of the file is not). validate.py and
# load.py are mostly SQL text built in Python: mutmut's string mutants of that text break the SQL and die at
# once, but each one costs a run of the ingest tests (about two minutes on 2 shared cores), so only their
# Python helpers are mutated, against direct tests; the rules' and dedup's SQL conditions are covered by the
# hand-made mutation checks of issue 16 (test_rule_coverage, test_ingest_dedup_edges, test_ingest_merge).
FUNCTIONS: dict[str, tuple[str, ...]] = {
    "validate": tuple(f"workbench.ingest.validate.{f}__mutmut_*" for f in (
        "x__norm_header", "xǁParamsǁadd", "xǁParamsǁbind", "x_json_key_path", "x__inline_params", "x__literal",
        "x__inline", "x_execute_one", "x__formats", "x__issue", "x__has_error_sql", "x__bool", "x__bool_bad",
        "x__in_gb", "x_haversine_m")),
    "load": tuple(f"workbench.ingest.load.{f}__mutmut_*" for f in (
        "x_group_key_sql", "x__date_regex", "x_last_id", "x_merge_window_seconds", "x__incident_key_sql")),
    # knox: the statistic (bands, table, expected, ratio, p-value, permutations) and the pair counter's count;
    # not the counters' set-up, the sweep engine's look-up tables or the numba kernel (slow to run on 2 cores)
    "knox": tuple(f"workbench.hotspots.knox.{f}__mutmut_*" for f in (
        "x__band", "x_knox", "x__simulate", "xǁ_PairCounterǁcount", "xǁ_PairCounterǁ_cum_to_bands")),
}

# module -> functions left unmutated in the scratch copy (a `# pragma: no mutate block` added there only), with
# the reason. knox's sweep kernel is compiled with numba, which cannot compile mutmut's trampoline around it;
# the kernel is tested through its plain-Python twin and the brute-force counts of both engines.
UNMUTATED: dict[str, tuple[str, ...]] = {"knox": ("_sweep_kernel",)}


def _setup_cfg(source: str, tests: list[str]) -> str:
    lines = ["[mutmut]", "source_paths=workbench", f"only_mutate={source}",
             "also_copy=", *(f"    {p}" for p in ("widgets", "queries", "sample_data", "notebooks", "benchmarks")),
             "pytest_add_cli_args_test_selection=", *(f"    {t}" for t in tests),
             "pytest_add_cli_args=", "    -p", "    no:cacheprovider", "    -q",
             "mutate_only_covered_lines=true", "use_git_change_detection=false", ""]
    return "\n".join(lines)


def _scratch(name: str, source: str, tests: list[str]) -> Path:
    work = OUT / name
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".ipynb_checkpoints")
    for item in COPY:
        src = REPO / item
        if src.is_dir():
            shutil.copytree(src, work / item, ignore=ignore)
        elif src.is_file():
            shutil.copy2(src, work / item)
    (work / "setup.cfg").write_text(_setup_cfg(source, tests), encoding="utf-8")
    for func in UNMUTATED.get(name, ()):
        path = work / source
        text = path.read_text(encoding="utf-8")
        at = text.index(f"\ndef {func}(") + 1
        path.write_text(text[:at] + "# pragma: no mutate block\n" + text[at:], encoding="utf-8")
    return work


def _stats(work: Path, mutmut: str) -> dict:
    subprocess.run([mutmut, "export-cicd-stats"], cwd=work, check=True, stdout=subprocess.DEVNULL)
    stats = json.loads((work / "mutants" / "mutmut-cicd-stats.json").read_text())
    listing = subprocess.run([mutmut, "results"], cwd=work, check=True, capture_output=True, text=True).stdout
    survivors = []
    for line in listing.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if status in ("survived", "no tests") and name:
            diff = subprocess.run([mutmut, "show", name], cwd=work, capture_output=True, text=True).stdout
            survivors.append({"mutant": name, "status": status, "diff": diff})
    return {**stats, "survivors": survivors}


def run(name: str, mutmut: str, children: int, mutants: list[str] | None = None, write: bool = True) -> dict:
    source, tests = MODULES[name]
    tests = [t for t in tests if not t.startswith("tests/") or (REPO / t.split("::")[0]).exists()]  # (pytest options kept)
    work = _scratch(name, source, tests)
    started = time.time()
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("WORKBENCH_CONFIG", None)
    with open(OUT / f"{name}.log", "w", encoding="utf-8") as log:
        proc = subprocess.run([mutmut, "run", "--max-children", str(children), *(mutants or FUNCTIONS.get(name, ()))],
                              cwd=work, env=env,
                              stdout=log, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"mutmut failed on {name} (exit {proc.returncode}); see {OUT / (name + '.log')}")
    result = {"module": name, "source": source, "tests": tests, "mutated": list(mutants or FUNCTIONS.get(name, ()))
              or "every function" + (f" but {', '.join(UNMUTATED[name])}" if name in UNMUTATED else ""),
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "seconds": round(time.time() - started),
              **_stats(work, mutmut)}
    judged = (result["killed"] + result["survived"] + result.get("timeout", 0) + result.get("suspicious", 0)
              + result.get("no_tests", 0))   # a mutant no test reaches is a survivor too
    result["percent_killed"] = round(100 * (result["killed"] + result.get("timeout", 0)) / judged, 1) if judged else None
    if write:
        (OUT / f"{name}.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    return result


def merge(name: str, first: dict, rerun: dict) -> dict:
    """Counts of a full run (`first`) updated by a re-run of its survivors only (`rerun`). mutmut numbers the
    mutants of a function in order over its covered lines, so when new tests cover more lines the names
    shift and the earlier survivors' names no longer mean the same mutants: then only a full run is valid."""
    if rerun["total"] != first["total"]:
        raise SystemExit(f"{name}: {rerun['total']} mutants now, {first['total']} in the earlier run (the tests "
                         "cover other lines, so mutant names shifted): run the module in full, without --survivors")
    merged = {**rerun, "first_run": first.get("first_run") or {k: first[k] for k in ("killed", "survived", "total",
                                                                                    "seconds")},
              "reruns_of_survivors": [*first.get("reruns_of_survivors", []),
                                      {k: rerun[k] for k in ("killed", "survived", "seconds")}]}
    for key in ("killed", "timeout"):
        merged[key] = first.get(key, 0) + rerun.get(key, 0)
    merged["total"] = first["total"]
    merged["survived"] = rerun["survived"]
    merged["seconds"] = first["seconds"] + rerun["seconds"]
    judged = (merged["killed"] + merged["survived"] + merged.get("timeout", 0) + merged.get("suspicious", 0)
              + merged.get("no_tests", 0))
    merged["percent_killed"] = round(100 * (merged["killed"] + merged.get("timeout", 0)) / judged, 1) if judged else None
    (OUT / f"{name}.json").write_text(json.dumps(merged, indent=1), encoding="utf-8")
    return merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help=f"default: all of {', '.join(MODULES)}")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--children", type=int, default=1, help="mutants tested at once (default 1)")
    parser.add_argument("--mutmut", default=str(Path(sys.executable).parent / "mutmut"))
    parser.add_argument("--mutants", nargs="+", help="only these mutants (names or globs, e.g. "
                        "'workbench.ingest.quarantine.x_show*'), to re-check survivors after adding tests")
    parser.add_argument("--survivors", action="store_true", help="only the survivors listed in the module's last "
                        "results (out/mutation/<module>.json); counts merged with that run's")
    args = parser.parse_args(argv)
    if args.list:
        for name, (source, tests) in MODULES.items():
            print(f"{name:12} {source:36} {' '.join(tests)}")
        return 0
    unknown = [m for m in args.modules if m not in MODULES]
    if unknown:
        parser.error(f"unknown module(s) {', '.join(unknown)}: use {', '.join(MODULES)}")
    OUT.mkdir(parents=True, exist_ok=True)
    summary_file = OUT / "summary.json"
    summary = json.loads(summary_file.read_text()) if summary_file.exists() else {}
    for name in args.modules or list(MODULES):
        if args.survivors:
            first = json.loads((OUT / f"{name}.json").read_text())
            if "first_run" not in first:  # a full run: kept as it was (a merged result merges again)
                (OUT / f"{name}.first.json").write_text(json.dumps(first, indent=1), encoding="utf-8")
            names = [s["mutant"] for s in first["survivors"] if s["status"] == "survived"]
            r = merge(name, first, run(name, args.mutmut, args.children, names, write=False))
        else:
            r = run(name, args.mutmut, args.children, args.mutants)
        summary[name] = {k: r[k] for k in ("source", "total", "killed", "survived", "timeout", "no_tests",
                                           "skipped", "suspicious", "percent_killed", "seconds") if k in r}
        summary_file.write_text(json.dumps(summary, indent=1), encoding="utf-8")
        print(f"{name}: {r['killed']} killed, {r['survived']} survived of {r['total']} "
              f"({r['percent_killed']}% killed, {r['seconds']} s); {len(r['survivors'])} listed in {OUT / (name + '.json')}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
