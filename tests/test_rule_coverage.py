"""Every validation rule in workbench/ingest/rules.py fires on some fixture, with an exact expectation: the
corpus files (tests/test_ingest_bad_inputs.py, exact rules and counts per file) and, for the rules decided
while loading against the store, the scenarios below. A new rule without a fixture fails here, and so does a
rule that stops firing (removing DATE_MISSING lets an undated row in: its corpus file then fails)."""
from __future__ import annotations

import pytest

from tests.ingest_helpers import FIX, fresh_copy, template_store
from tests.test_ingest_bad_inputs import COUNTED

# rules decided against the store: (files ingested first, the file, its warnings exactly, rows accepted)
LOAD_TIME = {
    # WMP refers Brightmart's incident at the same store and time with another crime number: merged, flagged
    "CRIME_NUMBER_DIFFERS": (["brightmart_clean.csv"], "wmp_same_incident.csv",
                             {"CRIME_NUMBER_DIFFERS": 1}, 3),
    # the same force's crime number at another store: not merged, kept apart and flagged
    "MERGE_SUSPECT": (["brightmart_clean.csv"], "merge_suspect.csv", {"MERGE_SUSPECT": 1}, 1),
    # a _quarantine_id that names no quarantine entry of this source resolves nothing and is flagged
    "QUARANTINE_ID_FOREIGN": ([], "quarantine_id_unknown.csv", {"QUARANTINE_ID_FOREIGN": 1}, 1),
}


def _fired_by_fixtures() -> set[str]:
    fired = set()
    for _, _, _, errors, warnings, _ in COUNTED.values():
        fired |= {code for code, n in {**errors, **warnings}.items() if n > 0}
    for _, _, warnings, _ in LOAD_TIME.values():
        fired |= {code for code, n in warnings.items() if n > 0}
    return fired


def test_every_rule_is_fired_by_a_fixture():
    from workbench.ingest import rules

    codes = set(rules.rules())
    assert len(codes) == len(rules._RULES), "rule codes are unique"
    missing = sorted(codes - _fired_by_fixtures())
    assert not missing, f"rules no fixture fires (add a row to tests/bad_inputs/make_corpus.py): {missing}"
    unknown = sorted(_fired_by_fixtures() - codes)
    assert not unknown, f"fixtures expect rules that do not exist: {unknown}"
    # and both kinds are covered: every error quarantines some fixture row, every warning flags one
    errors = {c for c, r in rules.rules().items() if r.severity == "error"}
    quarantining = set()
    for _, _, quarantined, errs, _, held in COUNTED.values():
        if quarantined:
            assert len(held) == quarantined
            quarantining |= set(errs)
    assert errors <= quarantining


def test_every_rule_is_documented():
    from pathlib import Path

    from workbench.ingest import rules

    table = (Path(__file__).resolve().parent.parent / "docs" / "ingest.md").read_text(encoding="utf-8")
    assert [c for c in rules.rules() if f"| `{c}` |" not in table] == []


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return template_store(tmp_path_factory.mktemp("rules"))


@pytest.mark.parametrize("code", sorted(LOAD_TIME))
def test_load_time_rule_fires(code, template, tmp_path):
    from workbench.ingest import ingest_file
    from workbench.store import open_store

    before, name, expected, accepted = LOAD_TIME[code]
    with open_store(fresh_copy(template, tmp_path, "s")) as store:
        for prior in before:
            ingest_file(store, FIX / prior)
        report = ingest_file(store, FIX / name)
        assert report["status"] == "committed" and report["rows_accepted"] == accepted
        assert report["rows_quarantined"] == 0
        assert report["warnings_by_rule"] == expected      # exactly: no other rule fires on these rows
        stored = store.con.execute("SELECT count(*) FROM validation_flags WHERE batch_id = $b AND rule_code = $c",
                                   {"b": report["batch_id"], "c": code}).fetchone()[0]
        assert stored == expected[code]
        if code == "MERGE_SUSPECT":
            assert report["incidents_new"] == 1 and report["duplicates_merged"] == 0
        if code == "CRIME_NUMBER_DIFFERS":
            assert report["duplicates_merged"] == 2
        if code == "QUARANTINE_ID_FOREIGN":
            assert report["quarantine_resolved"] == 0
