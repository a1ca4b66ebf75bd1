"""The ingest benchmark's comparison must compare like with like: run it small and check that the pandas
baseline, the dry run and the ingest agree on every count, rule by rule (timings are not asserted here; they
are measured by `make bench` into JSON)."""
from __future__ import annotations


def test_quick_ingest_benchmark_compares_equal_work(tmp_path, monkeypatch):
    from benchmarks import bench_ingest

    monkeypatch.setattr(bench_ingest, "ROWS_QUICK", 5_000)
    records = bench_ingest.run(tmp_path, quick=True)
    by_step = {r["step"]: r for r in records}
    assert not [r for r in records if r.get("error")], [r.get("error") for r in records]
    comparison = by_step["comparison"]
    assert comparison["pandas_agrees_with_validate"] and comparison["validate_agrees_with_ingest"]
    pandas = by_step["pandas_baseline_validate_only"]["result"]
    # the extract has errors and warnings of several rules, so agreement is not agreement on nothing
    assert len(pandas["errors_by_rule"]) >= 4 and len(pandas["warnings_by_rule"]) >= 3
    assert pandas["rows_read"] == 5_000 and 0 < pandas["rows_quarantined"] < 5_000
    assert by_step["floor_store_write_only"]["result"]["rows_written"] > 5_000
    assert comparison["ingest_ceiling_mb_per_s"] > 0


def test_national_benchmarks_run_quick_by_default_but_full_only_when_named():
    import types

    from benchmarks import bench_linkage_national, run

    assert run.in_default_run(bench_linkage_national, quick=True)
    assert not run.in_default_run(bench_linkage_national, quick=False)
    plain, never = types.SimpleNamespace(), types.SimpleNamespace(IN_DEFAULT_RUN=False)
    assert run.in_default_run(plain, quick=False) and run.in_default_run(plain, quick=True)
    assert not run.in_default_run(never, quick=True)
