"""Serve the planners' and managers' dashboards and the trainer's guided demonstration with Voila (`make dashboards`).

    python scripts/dashboards.py [--port 8866] [--token-file .venv/.dashboards_token] [--db out/workbench.duckdb]

Voila listens on 127.0.0.1 only, with token authentication (the token is made once, mode 600, by
scripts/lab_token.py's `token`, and handed to Voila in JUPYTER_TOKEN: the environment, never the command line), and
renders with the offline "workbench" template installed by `make assets` (every asset from this machine). It serves
notebooks/ and prints the URL of each dashboard present: notebooks/dashboards/patrol_plan.ipynb,
notebooks/dashboards/national_picture.ipynb and notebooks/06_training_demo.ipynb (when shipped). The store is
WORKBENCH_DB (made absolute: each notebook runs in its own folder).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from lab_token import token  # noqa: E402

NOTEBOOKS = REPO / "notebooks"
PAGES = {"patrol plan (planners)": "dashboards/patrol_plan.ipynb",
         "national picture (managers)": "dashboards/national_picture.ipynb",
         "guided demonstration (trainers)": "06_training_demo.ipynb"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8866)
    parser.add_argument("--token-file", type=Path, default=REPO / ".venv" / ".dashboards_token")
    parser.add_argument("--db", type=Path, default=Path(os.environ.get("WORKBENCH_DB") or "out/workbench.duckdb"))
    args = parser.parse_args(argv)
    template = Path(sys.prefix) / "share" / "jupyter" / "voila" / "templates" / "workbench" / "index.html.j2"
    if not template.is_file():
        raise SystemExit(f"the offline Voila template is not installed ({template.parent}): run make assets")
    db = args.db if args.db.is_absolute() else (Path.cwd() / args.db)
    if not db.is_file():
        raise SystemExit(f"no store at {db}: run make demo first (or give WORKBENCH_DB)")
    secret = token(str(args.token_file))
    base = f"http://127.0.0.1:{args.port}"
    print(f"Dashboards (Voila, 127.0.0.1 only, offline template; token kept in {args.token_file}):")
    for what, page in PAGES.items():
        if (NOTEBOOKS / page).is_file():
            print(f"  {what}: {base}/voila/render/{page}?token={secret}")
    sys.stdout.flush()
    env = {**os.environ, "JUPYTER_TOKEN": secret, "WORKBENCH_DB": str(db.resolve())}
    cmd = [sys.executable, "-m", "voila", "--no-browser", f"--port={args.port}", "--Voila.ip=127.0.0.1",
           "--Voila.auto_token=True", "--template=workbench", "--ServerApp.allow_root=True",
           f"--Voila.root_dir={NOTEBOOKS}"]
    os.chdir(NOTEBOOKS)
    os.execve(sys.executable, cmd, env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
