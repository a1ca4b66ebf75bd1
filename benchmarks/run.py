"""Run every benchmarks/bench_*.py module (or those named) and write JSON under --out.

    python -m benchmarks.run --out out/bench [--quick] [NAME ...]

A module with `IN_DEFAULT_RUN = False` (a national-scale run that builds a world for tens of minutes) runs
only when named; with `IN_DEFAULT_RUN = "quick"` its quick sizes run by default under --quick (to check that
the path works) while its full sizes still run only when named.
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from benchmarks.common import write_results

BENCH_DIR = Path(__file__).resolve().parent


def in_default_run(module, quick: bool) -> bool:
    flag = getattr(module, "IN_DEFAULT_RUN", True)
    return flag is True or (flag == "quick" and quick)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("out/bench"))
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the benchmarks run")
    parser.add_argument("names", nargs="*", help="bench module names without the bench_ prefix")
    args = parser.parse_args(argv)
    names = args.names or [name for name in sorted(p.stem[len("bench_"):] for p in BENCH_DIR.glob("bench_*.py"))
                           if in_default_run(importlib.import_module(f"benchmarks.bench_{name}"), args.quick)]
    failed = False
    for name in names:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        print(f"== {name}", flush=True)
        records = module.run(args.out, args.quick)
        path = write_results(args.out, name, records)
        for record in records:
            print(json.dumps(record, default=str), flush=True)
            failed |= bool(record.get("error"))
        print(f"   -> {path}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
