"""Ids that stay with an entity across runs: shared by persons, vehicles (run.py) and groups (groups.py)."""
from __future__ import annotations

import re


def id_number(entity_id: str) -> int:
    """The running number at the end of an id (RP0000012 -> 12; GR00003 -> 3); 0 when there is none."""
    match = re.search(r"(\d+)$", str(entity_id or ""))
    return int(match.group(1)) if match else 0


def keep_previous_ids(scored) -> dict:
    """Greedy one-to-one hand-over of old ids: `scored` holds (sort key, old id, new entity), best first once
    sorted; each new entity takes the best old id still free, each old id goes to one entity."""
    kept: dict = {}
    used = set()
    for _key, old, new in sorted(scored):
        if new in kept or old in used:
            continue
        kept[new] = old
        used.add(old)
    return kept
