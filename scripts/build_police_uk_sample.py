#!/usr/bin/env python3
"""Derive sample_data/police_uk/ (West Yorkshire shoplifting, July 2016, 2017, 2018) from the
police.uk street-level files shipped unmodified in the registry package crime-sim-toolkit 1.5.0.

Build time only (needs the package registry): downloads the pinned wheel with pip into a temporary
directory, keeps the rows whose Crime type is Shoplifting with every column and value unmodified,
and writes one CSV per month plus a README with source, licence and attribution. The workbench
never needs the package at run time.

    python scripts/build_police_uk_sample.py [--out sample_data/police_uk]
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "crime-sim-toolkit==1.5.0"
MEMBERS = [f"crime_sim_toolkit/tests/testing_data/test_policedata/{m}/{m}-west-yorkshire-street.csv"
           for m in ("2016-07", "2017-07", "2018-07")]
README = """# police.uk street-level shoplifting, West Yorkshire, July 2016, July 2017, July 2018

Real open data for the hotspot backtest (`workbench hotspots backtest --source police-uk`).

- **What**: the rows with `Crime type` = `Shoplifting` from the police.uk street-level crime files
  `2016-07-west-yorkshire-street.csv`, `2017-07-west-yorkshire-street.csv` and
  `2018-07-west-yorkshire-street.csv`; every column and value is unmodified (same header, same order).
- **Rows**: {counts}.
- **Where from**: data.police.uk, as shipped unmodified in the registry package `crime-sim-toolkit`
  1.5.0 (`crime_sim_toolkit/tests/testing_data/test_policedata/`), extracted by
  `scripts/build_police_uk_sample.py`.
- **Locations** are police.uk anonymised snap points; the time resolution is the month. Only three
  months, a year apart, exist in that package: backtests on them forecast each July from the Julys
  before it (year on year), not week by week.
- **Licence**: Open Government Licence v3.0.
  Contains public sector information licensed under the Open Government Licence v3.0.

SHA-256 of the files written:
{hashes}
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "sample_data" / "police_uk")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-q",
                        PACKAGE, "-d", tmp], check=True)
        wheel = next(Path(tmp).glob("*.whl"))
        args.out.mkdir(parents=True, exist_ok=True)
        counts, hashes = [], []
        with zipfile.ZipFile(wheel) as zf:
            for member in MEMBERS:
                text = zf.read(member).decode("utf-8-sig")
                lines = text.splitlines(keepends=True)
                header = next(csv.reader([lines[0]]))
                col = header.index("Crime type")
                kept = [lines[0]] + [ln for ln in lines[1:] if next(csv.reader([ln]))[col] == "Shoplifting"]
                name = Path(member).name.replace("-street.csv", "-street-shoplifting.csv")
                target = args.out / name
                target.write_text("".join(kept), encoding="utf-8", newline="")
                counts.append(f"{name}: {len(kept) - 1:,}")
                hashes.append(f"- `{name}`: {hashlib.sha256(target.read_bytes()).hexdigest()}")
    (args.out / "README.md").write_text(README.format(counts="; ".join(counts), hashes="\n".join(hashes)))
    print(f"wrote {args.out}: " + "; ".join(counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
