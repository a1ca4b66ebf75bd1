"""Series: the incidents tied to one group, resolved person or resolved vehicle.

    s = get_series(store, "GR00001")      # or "RP0000007", "RV0000003"
    s.incidents                           # signatures (signatures.SIGNATURE_COLUMNS) + tied_by, tied_to
    s.ties                                # incident_id, tied_by (person | vehicle), entity_id

A group's series is every incident where a current referral mentions one of its members (latest person_links)
or one of its vehicles (group_vehicles, latest vehicle_links); a person's or vehicle's, every incident it is
mentioned at. Ids are checked first: unknown ids and merged or retired entities are one-line errors.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from workbench.crossborder.signatures import incident_signatures
from workbench.errors import WorkbenchError

KINDS = {"GR": "group", "RP": "person", "RV": "vehicle"}
ID_RE = re.compile(r"^(GR|RP|RV)\d{1,12}$")
QUERY = {"group": "crossborder/group_incidents", "person": "crossborder/person_incidents",
         "vehicle": "crossborder/vehicle_incidents"}
PARAM = {"group": "group_id", "person": "person_id", "vehicle": "vehicle_id"}


@dataclass
class Series:
    series_id: str
    kind: str
    label: str | None
    incidents: pd.DataFrame
    ties: pd.DataFrame

    def __len__(self) -> int:
        return len(self.incidents)


def check_id(series_id) -> tuple[str, str]:
    """(normalised id, kind) of a series id, or a WorkbenchError naming what an id looks like."""
    text = str(series_id or "").strip().upper()
    if not ID_RE.match(text):
        shown = str(series_id)[:40].encode("unicode_escape").decode("ascii")
        raise WorkbenchError(f"'{shown}' is not a series id: give a group (GR00001), resolved person (RP0000001) "
                             "or resolved vehicle (RV0000001) id")
    return text, KINDS[text[:2]]


def entity_status(store, series_id) -> dict:
    text, kind = check_id(series_id)
    rows = store.query("crossborder/entity_status", entity_id=text)
    rows = rows[rows.kind == kind]
    if rows.empty:
        raise WorkbenchError(f"no {kind} {text} in this store (see `workbench "
                             f"{'groups list' if kind == 'group' else 'link status'}`)")
    row = rows.iloc[0]
    if row.status != "active":
        into = f" into {row.merged_into}" if isinstance(row.merged_into, str) and row.merged_into else ""
        raise WorkbenchError(f"{kind} {text} is {row.status}{into}: it has no series of its own now")
    return {"series_id": text, "kind": kind, "label": row.label if isinstance(row.label, str) else None}


def get_series(store, series_id, settings: dict | None = None) -> Series:
    """The series of a group, person or vehicle id, its incidents' signatures (ordered by time) and ties."""
    info = entity_status(store, series_id)
    kind = info["kind"]
    ties = store.query(QUERY[kind], **{PARAM[kind]: info["series_id"]})
    sig = incident_signatures(store, ties.incident_id.unique().tolist(), settings) if len(ties) else \
        incident_signatures(store, [], settings)
    tied_by = ties.groupby("incident_id").tied_by.agg(lambda s: ";".join(sorted(set(s))))
    tied_to = ties.groupby("incident_id").entity_id.agg(lambda s: ";".join(sorted(set(s))))
    sig["tied_by"] = sig.incident_id.map(tied_by)
    sig["tied_to"] = sig.incident_id.map(tied_to)
    sig = sig.sort_values(["occurred_at", "incident_id"], na_position="last").reset_index(drop=True)
    return Series(info["series_id"], kind, info["label"], sig, ties.reset_index(drop=True))
