"""Fetch the pinned offline map assets (`make assets`): npm pack, verify integrity, extract.

    python scripts/fetch_map_assets.py --dest .venv/share/workbench-assets

For each package in workbench/maps_assets.lock.json: `npm pack NAME@VERSION` into a temporary
directory, compare the tarball's sha512 with the locked `integrity` (refusing on mismatch), and extract
it to DEST/NAME@VERSION/. Idempotent: packages already extracted and verified are skipped. This is the
only step that touches the network (the npm registry); the workbench itself never does.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LOCK = REPO / "workbench" / "maps_assets.lock.json"


def sri_sha512(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def fetch(package: dict, dest: Path) -> str:
    spec = f"{package['name']}@{package['version']}"
    target = dest / spec
    marker = target / ".integrity"
    if marker.exists() and marker.read_text().strip() == package["integrity"] and all(
            (target / rel).is_file() for rel in package["urls"].values()):
        return f"{spec}: present"
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(["npm", "pack", spec, "--pack-destination", tmp, "--silent"],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"npm pack {spec} failed: {proc.stderr.strip().splitlines()[-1:] or proc.returncode}")
        (tarball,) = Path(tmp).glob("*.tgz")
        got = sri_sha512(tarball)
        if got != package["integrity"]:
            raise SystemExit(f"{spec}: integrity mismatch: lock has {package['integrity']}, tarball is {got}")
        staging = Path(tmp) / "extract"
        with tarfile.open(tarball, "r:gz") as tar:
            tar.extractall(staging, filter="data")  # refuses absolute paths, links outside, devices
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staging / "package"), str(target))
    missing = [rel for rel in package["urls"].values() if not (target / rel).is_file()]
    if missing:
        raise SystemExit(f"{spec}: expected files missing from the package: {missing}")
    marker.write_text(package["integrity"] + "\n")
    return f"{spec}: fetched and verified"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, required=True)
    args = parser.parse_args(argv)
    lock = json.loads(LOCK.read_text())
    if shutil.which("npm") is None:
        raise SystemExit("npm is not installed: install Node.js/npm (apt-get install npm) to fetch the map assets")
    args.dest.mkdir(parents=True, exist_ok=True)
    for package in lock["packages"]:
        print(fetch(package, args.dest), flush=True)
    (args.dest / ".complete").write_text(hashlib.sha256(LOCK.read_bytes()).hexdigest() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
