"""Print the JupyterLab token for `make lab`, creating it on first use (random, file mode 600).

Usage: python scripts/lab_token.py PATH. The token stays the same between runs (bookmarks keep
working); delete the file for a new one. `make lab` hands it to Jupyter in JUPYTER_TOKEN (the
environment, not the command line, so other users cannot read it from the process list).
"""
from __future__ import annotations

import os
import re
import secrets
import sys

TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{24,}")


def token(path: str) -> str:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(24) + "\n")
    if os.stat(path).st_mode & 0o077:
        os.chmod(path, 0o600)
    with open(path, encoding="utf-8") as handle:
        value = handle.read().strip()
    if not TOKEN_RE.fullmatch(value):
        raise SystemExit(f"{path}: not a usable token (at least 24 URL-safe characters); delete it for a new one")
    return value


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: lab_token.py PATH")
    print(token(sys.argv[1]))
