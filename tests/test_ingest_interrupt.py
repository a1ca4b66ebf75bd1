"""A committed batch is never logged as failed: Ctrl-C (KeyboardInterrupt) just after COMMIT leaves the batch
recorded as ingested and re-raises; before COMMIT it rolls back and is audited `ingest-interrupted`; every other
failed attempt, including one refused before the batch starts, is audited `ingest-failed`."""
from __future__ import annotations

import json

import pytest

from tests.ingest_helpers import FIX, fresh_copy, store, table_counts, template, template_store  # noqa: F401 (fixtures)


class _InterruptAfterCommit:
    """Stands in for the store's connection; Ctrl-C arrives the moment COMMIT has returned."""

    def __init__(self, con):
        self._con = con
        self.fired = False

    def execute(self, sql, *args, **kwargs):
        result = self._con.execute(sql, *args, **kwargs)
        if not self.fired and sql.strip().upper() == "COMMIT":
            self.fired = True
            raise KeyboardInterrupt
        return result

    def __getattr__(self, name):
        return getattr(self._con, name)


def _actions(store, obj: str) -> list[str]:
    return [r[0] for r in store.con.execute("SELECT action FROM audit_log WHERE object = $o ORDER BY ALL",
                                            {"o": obj}).fetchall()]


def test_ctrl_c_just_after_commit_keeps_the_batch_as_ingested(store):
    from workbench.ingest import ingest_file

    real = store.con
    store.con = proxy = _InterruptAfterCommit(real)
    try:
        with pytest.raises(KeyboardInterrupt):
            ingest_file(store, FIX / "brightmart_clean.csv")
    finally:
        store.con = real
    assert proxy.fired
    batches = store.con.execute("SELECT status, rows_read, rows_accepted FROM ingest_batches "
                                "WHERE file_name = 'brightmart_clean.csv'").fetchall()
    assert batches == [("committed", 5, 5)]
    assert store.con.execute("SELECT count(*) FROM referrals").fetchone()[0] == 5
    assert _actions(store, "brightmart_clean.csv") == ["ingest"]
    # and the store agrees it is in: the same content again is a no-op
    assert ingest_file(store, FIX / "brightmart_clean.csv")["status"] == "no-op"


def test_ctrl_c_before_commit_rolls_back_and_is_audited_interrupted(store, monkeypatch):
    from workbench.ingest import ingest_file
    from workbench.ingest import load as load_mod

    before = table_counts(store)

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(load_mod, "_evidence", interrupt)
    with pytest.raises(KeyboardInterrupt):
        ingest_file(store, FIX / "brightmart_clean.csv")
    assert table_counts(store) == before
    assert _actions(store, "brightmart_clean.csv") == ["ingest-interrupted"]
    details = json.loads(store.con.execute("SELECT details FROM audit_log WHERE action = 'ingest-interrupted'"
                                           ).fetchone()[0])
    assert details["source"] == "retailer_brightmart" and details["error"].startswith("KeyboardInterrupt")
    assert len(details["sha256"]) == 64
    monkeypatch.undo()
    assert ingest_file(store, FIX / "brightmart_clean.csv")["status"] == "committed"


def test_attempts_refused_before_the_batch_starts_are_audited(store, tmp_path):
    from workbench.errors import WorkbenchError
    from workbench.ingest import ingest_file, validate_file

    with pytest.raises(WorkbenchError):
        ingest_file(store, tmp_path / "nowhere.csv")
    bad_mapping = tmp_path / "retailer_bad.yaml"
    bad_mapping.write_text("name: retailer_bad\nkind: referrals\n", encoding="utf-8")
    with pytest.raises(WorkbenchError):
        validate_file(store, FIX / "brightmart_clean.csv", source=str(bad_mapping))
    assert _actions(store, "nowhere.csv") == ["ingest-failed"]
    assert _actions(store, "brightmart_clean.csv") == ["ingest-failed"]
    details = json.loads(store.con.execute("SELECT details FROM audit_log WHERE object = 'brightmart_clean.csv'"
                                           ).fetchone()[0])
    assert details["dry_run"] is True and details["source"] == str(bad_mapping)
    assert "retailer_bad.yaml" in details["error"]
