"""Fetch Voila's pinned offline assets and install the Voila template "workbench" (`make assets`).

    python scripts/fetch_voila_assets.py --dest .venv/share/workbench-assets --prefix .venv

For each package in workbench/voila_assets.lock.json: `npm pack NAME@VERSION`, compare the tarball's sha512
with the locked `integrity` (refusing on mismatch) and extract it to DEST/NAME@VERSION/ (the same step as the
map assets, scripts/fetch_map_assets.py). Then install the template from workbench/voila_template/ to
PREFIX/share/jupyter/voila/templates/workbench/, copy each package's `static` files into its static/ folder, and
make it Voila's default template in this environment (PREFIX/etc/jupyter/voila.json), so that every Voila page
served from the venv asks nothing of a CDN. Idempotent. This is the only step that touches the network (the npm
registry); Voila and the workbench never do.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fetch_map_assets import fetch  # noqa: E402  (same npm pack + integrity check)

REPO = Path(__file__).resolve().parent.parent
LOCK = REPO / "workbench" / "voila_assets.lock.json"
TEMPLATE_SRC = REPO / "workbench" / "voila_template"
TEMPLATE_NAME = "workbench"
MARKER = ".installed"
DENYLIST = ["jupyterlab-jupytext"]


def template_dir(prefix: Path) -> Path:
    return prefix / "share" / "jupyter" / "voila" / "templates" / TEMPLATE_NAME


def fingerprint() -> str:
    """Hash of everything the installed template is made from (a changed lock or template reinstalls)."""
    digest = hashlib.sha256()
    for path in [LOCK, Path(__file__).resolve(), *sorted(p for p in TEMPLATE_SRC.rglob("*") if p.is_file())]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def install_template(dest: Path, prefix: Path, lock: dict) -> str:
    target = template_dir(prefix)
    staging = target.with_name(TEMPLATE_NAME + ".new")
    if staging.exists():
        shutil.rmtree(staging)
    shutil.copytree(TEMPLATE_SRC, staging, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for package in lock["packages"]:
        source = dest / f"{package['name']}@{package['version']}"
        static = staging / "static" / package["name"].rsplit("/", 1)[-1]
        static.mkdir(parents=True, exist_ok=True)
        for rel in package["static"]:
            item = source / rel
            if item.is_dir():
                shutil.copytree(item, static / rel)
            elif item.is_file():
                shutil.copy2(item, static / rel)
            else:
                raise SystemExit(f"{package['name']}@{package['version']}: {rel} is missing from the package")
    (staging / MARKER).write_text(fingerprint() + "\n")
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)
    return f"voila template {TEMPLATE_NAME}: installed in {target}"


def make_default(prefix: Path) -> str:
    """Voila in this environment uses the workbench template unless told otherwise (--template=...)."""
    path = prefix / "etc" / "jupyter" / "voila.json"
    config = json.loads(path.read_text()) if path.is_file() else {}
    voila = config.setdefault("VoilaConfiguration", {})
    voila["template"] = TEMPLATE_NAME
    # jupytext's JupyterLab extension needs JupyterLab's document manager, which a Voila page has not: loaded
    # there it only logs an error (its conf.json traitlet_configuration is not applied by Voila 0.5, hence here)
    voila["extension_denylist"] = sorted(set(voila.get("extension_denylist") or []) | set(DENYLIST))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config, indent=2) + "\n")
    return f"voila default template: {TEMPLATE_NAME} ({path})"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, required=True, help="assets directory (npm packages are extracted here)")
    parser.add_argument("--prefix", type=Path, default=Path(sys.prefix), help="environment to install the template in")
    args = parser.parse_args(argv)
    lock = json.loads(LOCK.read_text())
    installed = template_dir(args.prefix) / MARKER
    if installed.is_file() and installed.read_text().strip() == fingerprint():
        print(f"voila template {TEMPLATE_NAME}: present")
    else:
        if shutil.which("npm") is None:
            raise SystemExit("npm is not installed: install Node.js/npm (apt-get install npm) to fetch the Voila assets")
        args.dest.mkdir(parents=True, exist_ok=True)
        for package in lock["packages"]:
            print(fetch(package, args.dest), flush=True)
        print(install_template(args.dest, args.prefix, lock))
    print(make_default(args.prefix))
    return 0


if __name__ == "__main__":
    sys.exit(main())
