"""Property-based tests (hypothesis) of the ingest's invariants, through the real ingest:

- nothing is lost: for any extract in a real source's layout (Brightmart's CSV) with random valid and invalid
  cells, hostile text and malformed lines, rows read = accepted + quarantined, in the report, the batch row, the
  quarantine table and the referrals; and the dry run reports the same counts;
- normalisation is idempotent: a registration mark or crime number re-submitted in its normalised form
  normalises to itself (vehicle_mentions.vrm_norm, incidents.crime_number_norm, both computed in SQL in
  workbench/ingest/load.py and validate.py), and a crime number so re-written meets its incident.
"""
from __future__ import annotations

import csv
import io
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.bad_inputs.make_corpus import BRM_HEADER, brm
from tests.ingest_helpers import fresh_copy, template_store

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

# cells a retailer's extract really holds, right and wrong, per column
HOSTILE_TEXT = st.text(alphabet=st.sampled_from(list("aZ9 ,;'\"=+-@<>/:£é\n\t()")), max_size=12)
CELLS = {
    "occurred": st.sampled_from(["2025-03-01 10:00", "2025-02-31 10:00", "", "yesterday", "2099-01-01 10:00",
                                 "2025-03-01", "01/03/2025 10:00"]),
    "crime_ref": st.sampled_from(["13/40001/25", "", "  ", "13 40002 25", "n/a", "13/1' OR '1'='1/25"]),
    "police_force": st.sampled_from(["West Yorkshire Police", "", "WYP", "Gotham City PD", "13", "west yorkshire"]),
    "store_no": st.sampled_from(["101", "102", "0101", "999", ""]),
    "loss_gbp": st.sampled_from(["120.50", "0", "-1", "£45", "1,200.00", "about ten", ""]),
    "num_offenders": st.sampled_from(["2", "0", "-2", "two", ""]),
    "violence": st.sampled_from(["Y", "N", "maybe", ""]),
    "offender_dobs": st.sampled_from(["1990-01-02; 1985-05-06", "1990-13-45", "2090-01-01", ""]),
    "vehicle_reg": st.sampled_from(["AB12 CDE", "!!!", "AB1", "", "A1 ABC; XY99 ZZZ"]),
    "referred_at": st.sampled_from(["2025-04-01 10:00", "", "2025-01-01 10:00", "31/31/2025"]),
    "grading": st.sampled_from(["2B P", "9Z Q", "B2 1", "", "3E C"]),
    "narrative": HOSTILE_TEXT,
    "offender_names": HOSTILE_TEXT,
}


@st.composite
def extracts(draw):
    """(CSV text, number of data rows) in Brightmart's layout; some lines may be malformed."""
    n = draw(st.integers(min_value=1, max_value=6))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(BRM_HEADER)
    for i in range(1, n + 1):
        row = brm(i, referral_id=f"BRM-P-{i:03d}", incident_id=f"BRM-PI-{i:03d}")
        for column in draw(st.sets(st.sampled_from(sorted(CELLS)), max_size=5)):
            row[column] = draw(CELLS[column])
        kind = draw(st.sampled_from(["row"] * 6 + ["short", "long"]))
        values = [row[h] for h in BRM_HEADER]
        if kind == "short":
            values = values[: len(values) // 2]
        elif kind == "long":
            values = values + ["surplus"]
        writer.writerow(values)
    return out.getvalue(), n


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return template_store(tmp_path_factory.mktemp("props"))


@SETTINGS
@given(extract=extracts())
def test_rows_read_equal_accepted_plus_quarantined(template, extract):
    from workbench.ingest import ingest_file, validate_file
    from workbench.store import open_store

    text, n = extract
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "brightmart_generated.csv"
        path.write_text(text, encoding="utf-8")
        with open_store(fresh_copy(template, Path(tmp), "s")) as store:
            dry = validate_file(store, path, source="retailer_brightmart")
            report = ingest_file(store, path, source="retailer_brightmart")
            assert report["status"] == "committed"
            assert report["rows_read"] == n, "every data row written is a row read"
            assert report["rows_accepted"] + report["rows_quarantined"] == n
            for key in ("rows_read", "rows_accepted", "rows_quarantined", "errors_by_rule"):
                assert dry[key] == report[key], key
            con = store.con
            b = {"b": report["batch_id"]}
            assert con.execute("SELECT rows_read, rows_accepted, rows_quarantined FROM ingest_batches "
                               "WHERE batch_id = $b", b).fetchone() == (n, report["rows_accepted"],
                                                                        report["rows_quarantined"])
            held = con.execute("SELECT row_number FROM quarantine WHERE batch_id = $b ORDER BY row_number",
                               b).fetchall()
            accepted_rows = con.execute("SELECT count(*) FROM referrals WHERE batch_id = $b", b).fetchone()[0]
            assert len(held) == report["rows_quarantined"]
            assert accepted_rows == report["rows_accepted"]    # one row per referral in this layout, refs unique
            assert len({r[0] for r in held}) == len(held) and all(1 <= r[0] <= n for r in held)


VRM_TEXT = st.text(alphabet=st.sampled_from(list("ABCxyz0189 -.?*_é")), min_size=1, max_size=10).filter(
    lambda s: "  " not in s)
CRIME_TEXT = st.text(alphabet=st.sampled_from(list("13wmWM/ -.0459é")), min_size=1, max_size=14)


def _ingest_one(store, directory: Path, name: str, **cells) -> dict:
    from workbench.ingest import ingest_file

    path = directory / f"{name}.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=BRM_HEADER)
        writer.writeheader()
        writer.writerow(brm(1, referral_id=f"BRM-{name}", incident_id=f"INC-{name}", **cells))
    return ingest_file(store, path, source="retailer_brightmart")


@SETTINGS
@given(vrm=VRM_TEXT, crime=CRIME_TEXT)
def test_vrm_and_crime_number_normalisation_is_idempotent(template, vrm, crime):
    from workbench.store import open_store

    expected_crime = re.sub(r"[^A-Za-z0-9]", "", crime).upper()   # (an independent statement of the rule)
    expected_vrm = re.sub(r"[^A-Za-z0-9?*_]", "", vrm.strip()).upper()
    with tempfile.TemporaryDirectory() as tmp:
        with open_store(fresh_copy(template, Path(tmp), "s")) as store:
            first = _ingest_one(store, Path(tmp), "a", vehicle_reg=vrm, crime_ref=crime)
            if not expected_crime:      # nothing left of it: no crime number, quarantined
                assert (first["rows_quarantined"], first["errors_by_rule"].get("CRIME_NUMBER_MISSING")) == (1, 1)
                return
            assert first["rows_accepted"] == 1
            vrm1 = store.con.execute("SELECT vrm_norm, vrm_format FROM vehicle_mentions").fetchall()
            crime1 = store.con.execute("SELECT crime_number_norm FROM incidents").fetchone()[0]
            assert crime1 == expected_crime
            # a mark with nothing left of it (e.g. '.') is kept as given, with no normalised form
            assert [v for v, _ in vrm1] == [expected_vrm or None]
            second = _ingest_one(store, Path(tmp), "b", vehicle_reg=expected_vrm or vrm, crime_ref=crime1)
            assert second["rows_accepted"] == 1
            # the normalised crime number meets its incident (same force, store and time): one incident
            assert (second["incidents_new"], second["duplicates_merged"]) == (0, 1)
            assert store.con.execute("SELECT DISTINCT crime_number_norm FROM incidents").fetchall() == [(crime1,)]
            vrm2 = store.con.execute("SELECT vrm_norm, vrm_format FROM vehicle_mentions WHERE referral_id = "
                                     "(SELECT max(referral_id) FROM referrals)").fetchall()
            assert vrm2 == vrm1, "a normalised registration mark normalises to itself, in the same format"
