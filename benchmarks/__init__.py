"""Benchmarks: each bench_*.py module exposes run(out_dir: Path, quick: bool) -> list[dict]."""
