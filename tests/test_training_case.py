"""Training mode: the pseudonymised case leaks no name, plate or crime number of the source world into any output
(store tables, extracts, a package built in training mode in every format), is deterministic for a seed, is marked
TRAINING on every product, refuses real stores, and resets to its starting state."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from benchmarks import bench_crossborder, bench_linkage
from workbench import config, training
from workbench.errors import WorkbenchError
from workbench.store import open_store
from workbench.training.case import case_spec, gather, select_case

MARK = "TRAINING - NOT REAL INTELLIGENCE"
TIME_COLUMNS_KEPT = {"occurred_at", "received_at", "dob", "first_seen", "last_seen"}


@pytest.fixture(scope="session")
def quick_db(tmp_path_factory):
    root = tmp_path_factory.getbasetemp() / "bench_linkage_quick"
    _world, db = bench_linkage.build(root / "linkage_quick", bench_linkage.QUICK_SCALE)
    bench_crossborder._resolve_if_needed(str(db))
    return db


@pytest.fixture(autouse=True)
def _leave_training():
    config.leave_training()
    yield
    config.leave_training()


@pytest.fixture(scope="module")
def case(quick_db, tmp_path_factory):
    root = tmp_path_factory.mktemp("training")
    config.leave_training()
    info = training.build(quick_db, root / "a", seed=7)
    again = training.build(quick_db, root / "b", seed=7)
    other = training.build(quick_db, root / "c", seed=8)
    with open_store(quick_db, read_only=True) as src:
        selection = select_case(src, case_spec("cross-border"))
        rows = gather(src, selection)
        names = src.sql("SELECT full_name, forename, surname, alias FROM person_mentions")
        places = src.sql("SELECT name, address, town FROM stores UNION ALL SELECT name, NULL, NULL FROM forces "
                         "UNION ALL SELECT name, NULL, NULL FROM retailers")
    # a package of the training group, built in training mode
    from workbench import crossborder, packages

    with training.open_training(root / "a") as store:
        group = str(crossborder.several_forces(store).group_id.iloc[0])
        package = packages.build(store, group, root / "pkg", purpose="training: leak check")
    config.leave_training()
    yield {"root": root, "info": info, "dir": root / "a", "again": root / "b", "other": root / "c", "rows": rows,
           "names": names, "places": places, "group": group, "package": root / "pkg", "package_result": package}
    config.leave_training()


def _store_text(path: Path) -> str:
    """Every text cell of every table of a store, one big string."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        parts = []
        for (table,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall():
            frame = con.execute(f'SELECT * FROM "{table}"').df()
            for column in frame.columns:
                parts.extend(str(v) for v in frame[column].dropna().astype(str).unique())
        return "\n".join(parts)
    finally:
        con.close()


def _outputs_text(case) -> dict[str, str]:
    from workbench.packages import read_back

    texts = {"store": _store_text(case["dir"] / "training.duckdb"),
             "pristine": _store_text(case["dir"] / "pristine.duckdb")}
    for folder in (case["dir"], case["package"]):
        for f in sorted(folder.rglob("*")):
            if not f.is_file() or f.suffix in (".duckdb", ".wal"):
                continue
            try:
                texts[str(f)] = read_back(f)
            except Exception:
                texts[str(f)] = f.read_bytes().decode("utf-8", errors="replace")
    return texts


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[A-Za-z][A-Za-z'\-]+", text)}


def test_case_is_a_cross_border_group_with_context(case):
    info = case["info"]
    assert int(info["group_incidents"]) >= 10 and int(info["background"]) > 0 and int(info["mo_incidents"]) > 0
    with training.open_training(case["dir"], read_only=True) as store:
        forces = store.sql("SELECT count(DISTINCT force_code) AS n FROM incidents").n.iloc[0]
        persons = store.sql("SELECT count(*) AS n FROM person_mentions").n.iloc[0]
    assert forces >= 3 and persons > 0


def test_no_source_name_plate_or_crime_number_survives_anywhere(case):
    rows = case["rows"]
    place_words = set()
    for column in case["places"].columns:
        for value in case["places"][column].dropna():
            place_words |= _words(str(value))
    names = case["names"]
    person_words = set()
    full_names = set()
    for column in ("forename", "surname", "alias", "full_name"):
        for value in names[column].dropna():
            person_words |= {w for w in _words(str(value)) if len(w) >= 3}
    for value in rows["persons"].full_name.dropna():
        if len(str(value).split()) >= 2:
            full_names.add(str(value).lower())
    person_words -= place_words            # a surname that is also a town or street word is not a leak
    person_words -= {"subject", "training", "not", "real", "intelligence", "trn", "dems", "nat"}  # the pseudonyms' own words; NaT
    assert len(person_words) > 100 and len(full_names) > 5
    plates = {str(v).upper() for v in rows["vehicles"].vrm_norm.dropna() if len(str(v)) >= 4}
    crime = {re.sub(r"[^A-Z0-9]", "", str(v).upper()) for v in rows["incidents"].crime_number.dropna()}
    crime |= {re.sub(r"[^A-Z0-9]", "", str(v).upper()) for v in rows["referrals"].source_ref.dropna()}
    evidence = {str(v).upper() for v in rows["evidence"].reference.dropna()}
    assert plates and crime and evidence
    texts = _outputs_text(case)
    assert any(k.endswith(".pdf") for k in texts) and any(k.endswith(".docx") for k in texts)
    assert any(k.endswith(".xlsx") or k.endswith(".csv") for k in texts)
    for where, text in texts.items():
        # inline images (base64 data URIs) are not text: a 4-character partial plate turns up in them by chance
        text = re.sub(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=\s]+", " ", text)
        text = re.sub(r"<[^>]*>", " ", text)  # tag names are markup, not content ("</div><h2" squeezes to DIVH2)
        words = _words(text)
        assert not (words & person_words), (where, sorted(words & person_words)[:10])
        low = text.lower()
        assert not [n for n in full_names if n in low], where
        squeezed = re.sub(r"[^A-Z0-9]", "", text.upper())
        assert not [p for p in plates if p in squeezed], where
        assert not [c for c in crime if c in squeezed], where
        assert not [e for e in evidence if e in text.upper()], where
    store_text = texts["store"]
    assert "Subject A" in store_text and re.search(r"TR\d\d T[A-Z]{2}", store_text)
    assert re.search(r"TRN/\w+/\d{5}/\d\d", store_text)


def _content(path: Path) -> dict:
    con = duckdb.connect(str(path), read_only=True)
    try:
        out = {}
        for table in ("incidents", "referrals", "person_mentions", "vehicle_mentions", "evidence_items", "stores",
                      "resolved_persons", "person_links", "resolved_vehicles", "groups", "group_members",
                      "incident_tactics"):
            frame = con.execute(f'SELECT * FROM "{table}"').df()
            drop = [c for c in frame.columns if c.endswith("_at") and c not in TIME_COLUMNS_KEPT]
            frame = frame.drop(columns=drop + [c for c in ("batch_id", "first_batch_id", "run_id") if c in frame])
            frame = frame.round(9)  # centralities differ in the last bit between runs
            out[table] = sorted(frame.astype(str).values.tolist())  # whole rows: ties in the first column too
        return out
    finally:
        con.close()


def test_same_seed_gives_the_same_case_and_another_seed_other_pseudonyms(case):
    a, b, c = (_content(case[k] / "training.duckdb") for k in ("dir", "again", "other"))
    for table in a:
        assert a[table] == b[table], table
    for name in ("extracts/force_referral_forms_case.json", "arriving/force_referral_forms_arriving.json",
                 "extracts/store_directory.csv"):
        assert (case["dir"] / name).read_bytes() == (case["again"] / name).read_bytes(), name
    assert a["person_mentions"] != c["person_mentions"]
    assert len(a["incidents"]) == len(c["incidents"])


def test_every_product_is_marked_training_in_place_of_the_marking(case):
    real = config.security_marking()
    assert real != MARK
    html = (case["package"] / "package.html").read_text(encoding="utf-8")
    assert html.count(MARK) >= 2 and real not in html
    from workbench.packages import read_back

    for name in ("package.pdf", "package.docx"):
        text = read_back(case["package"] / name)
        assert MARK in text and real not in text, name
    assert case["package_result"]["marking"] == MARK
    with training.open_training(case["dir"], read_only=True):
        assert config.security_marking() == MARK
        from workbench.render import render

        page = render("base.html.j2", title="t")
        assert page.count(MARK) >= 2
    config.leave_training()
    assert config.security_marking() == real


def test_training_refuses_real_stores_and_real_stores_refuse_in_training_mode(case, quick_db, tmp_path):
    with pytest.raises(WorkbenchError, match="not a training store"):
        training.open_training(quick_db)
    real_folder = tmp_path / "real"
    real_folder.mkdir()
    shutil.copy(quick_db, real_folder / "training.duckdb")
    with pytest.raises(WorkbenchError, match="not a training store"):
        training.reset(real_folder)
    with pytest.raises(WorkbenchError, match="not a training store"):
        training.build(quick_db, real_folder, seed=1)
    with pytest.raises(WorkbenchError, match="itself a training store"):
        training.build(case["dir"] / "training.duckdb", tmp_path / "x", seed=1)
    with training.open_training(case["dir"], read_only=True):
        with pytest.raises(WorkbenchError, match="training mode"):
            open_store(quick_db, read_only=True)
    for verb in ("reset", "info"):
        proc = subprocess.run([sys.executable, "-m", "workbench.cli", "training", verb, "--out", str(real_folder)],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and "not a training store" in proc.stderr
    assert (real_folder / "training.duckdb").read_bytes() == Path(quick_db).read_bytes()


def _state(folder: Path) -> dict:
    with training.open_training(folder, read_only=True) as store:
        return {t: int(store.sql(f"SELECT count(*) AS n FROM {t}").n.iloc[0])
                for t in ("referrals", "incidents", "quarantine", "ingest_batches", "link_decisions")}


def test_arrivals_quarantine_one_and_reset_restores_twice_in_a_row(case, tmp_path):
    from workbench.ingest import ingest_file
    from workbench.linkage import review
    from workbench.linkage.run import decide

    folder = tmp_path / "session"
    shutil.copytree(case["dir"], folder)
    start = _state(folder)
    seen = []
    for _ in range(2):
        with training.open_training(folder) as store:
            report = ingest_file(store, training.arriving_extract(folder), source="force_opal_form")
            quarantine = store.sql("SELECT reasons FROM quarantine")
            pair = review.review_queue(store, "person").iloc[0]
            decide(store, "confirm", pair.mention_a, pair.mention_b, "training: same subject")
        after = _state(folder)
        assert after["referrals"] > start["referrals"] and after["link_decisions"] == start["link_decisions"] + 1
        assert len(quarantine) == 1 and "CRIME_NUMBER_MISSING" in quarantine.reasons.iloc[0]
        seen.append((report.get("rows_accepted"), report.get("rows_quarantined"), after))
        config.leave_training()
        training.reset(folder)
        assert _state(folder) == start
    assert seen[0] == seen[1]
