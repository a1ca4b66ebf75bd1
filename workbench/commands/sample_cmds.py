"""`workbench sample` (generate the synthetic world) and `workbench load-sample`."""
from __future__ import annotations


def register(app) -> None:
    pass
