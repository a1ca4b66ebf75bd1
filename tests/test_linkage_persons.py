"""Person resolution: names and dates of birth made comparable, the DOB comparison's levels, clustering with
an analyst's constraints (the third-record case), context (impossible travel), the model end to end on seeded
synthetic records with known truth, explanations, and bad input."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb
import pandas as pd
import pytest

from tests.linkage_helpers import pairwise_f1, person_records
from workbench.errors import WorkbenchError
from workbench.linkage import (check_decisions, cluster, context_cannot_link, link_records, load_settings,
                               prepare_person_records)
from workbench.linkage import model as lmodel
from workbench.linkage import names

ROLES = {"forename": "forename", "surname": "surname", "dob": "dob", "latitude": "lat", "longitude": "lon",
         "seen_at": "seen_at"}


# -- names and dates -----------------------------------------------------------------------------------------
def test_fold_and_nicknames():
    assert names.fold("  Zoë  O'Brien ") == "zoe obrien"
    assert names.fold("!!!") is None and names.fold(None) is None and names.fold("") is None
    assert names.fold("Иван") == "иван"                    # other scripts keep their letters
    assert names.canonical_forename("jim") == names.canonical_forename("james") == "james"
    assert names.canonical_forename("haz") == names.canonical_forename("harry")  # chains followed
    assert names.canonical_forename("zebedee") == "zebedee"


def test_aliases_are_split_from_the_name():
    assert names.split_alias("J. Smith (aka Smudge)") == ("J. Smith", "Smudge")
    assert names.split_alias("John Smith also known as Smudge") == ("John Smith", "Smudge")
    assert names.split_alias("John 'Smudge' Smith") == ("John Smith", "Smudge")
    assert names.split_alias("John Smith") == ("John Smith", None)


def test_dates_of_birth_absurd_or_ambiguous_are_set_aside():
    assert names.parse_dob("1984-01-05;") == "1984-01-05"
    assert names.parse_dob(date(1990, 3, 12)) == "1990-03-12"
    assert names.parse_dob("1850-01-01") is None                       # before 1900
    assert names.parse_dob((date.today() + timedelta(days=2)).isoformat()) is None   # future
    assert names.parse_dob("2001-01-01", latest=date(2000, 6, 1)) is None            # born after being seen
    assert names.parse_dob("03/12/1990") is None                       # day/month order not guessed
    assert names.parse_dob("1990-02-30") is None


def _level(comparison: dict, **values) -> str:
    """The label of the first level of a Splink comparison whose SQL holds for the given _l/_r values."""
    con = duckdb.connect()
    select = ", ".join(f"CAST($%s AS VARCHAR) AS %s" % (k, k) for k in values)
    for level in comparison["comparison_levels"]:
        if level["sql_condition"] == "ELSE":
            return level["label_for_charts"]
        if con.execute(f"SELECT ({level['sql_condition']}) IS TRUE FROM (SELECT {select})", values).fetchone()[0]:
            return level["label_for_charts"]
    raise AssertionError("no level matched")


@pytest.mark.parametrize("left, right, expected", [
    ("1990-03-12", "1990-03-12", "exact"),
    ("1990-03-12", "1990-12-03", "day and month swapped"),
    ("1990-03-12", "1990-03-13", "1 digit typo or adjacent swap"),
    ("1990-03-12", "1909-03-12", "1 digit typo or adjacent swap"),   # two adjacent digits transposed
    ("1990-03-12", "1991-12-03", "all other"),                       # a swap and a typo is too much
    ("1990-03-12", "1990-04-14", "all other"),
    ("1990-03-12", None, "missing"),
])
def test_dob_comparison_levels(left, right, expected):
    assert _level(lmodel._dob({"max_edits": 1}), dob_l=left, dob_r=right) == expected


@pytest.mark.parametrize("fl, sl, fr, sr, forename, surname", [
    ("jon", "smyth", "jon", "smith", "exact", "one edit apart"),
    ("jim", "scott", "james", "scott", "same name family (nickname)", "exact"),
    ("smith", "john", "john", "smith", "forename and surname swapped", "forename and surname swapped"),
    ("j", "smith", "john", "smith", "initial agrees", "exact"),
    ("lee", "scott", "sarah", "patel", "all other", "all other"),
])
def test_name_comparison_levels(fl, sl, fr, sr, forename, surname):
    canon = {"forename_canon_l": names.canonical_forename(fl), "forename_canon_r": names.canonical_forename(fr),
             "forename_initial_l": fl[0], "forename_initial_r": fr[0]}
    values = {"forename_norm_l": fl, "forename_norm_r": fr, "surname_norm_l": sl, "surname_norm_r": sr, **canon}
    assert _level(lmodel._forename({}), **values) == forename
    assert _level(lmodel._surname({}), **values) == surname


# -- clustering with constraints ---------------------------------------------------------------------------
def _pairs(*edges):
    return pd.DataFrame(edges, columns=["id_l", "id_r", "match_weight"])


def _together(result: pd.DataFrame, a: str, b: str) -> bool:
    where = result.set_index("record_id").cluster_id
    return where[a] == where[b]


def test_threshold_and_single_linkage():
    result = cluster(["a", "b", "c", "d"], _pairs(("a", "b", 12.0), ("b", "c", 9.0), ("c", "d", 3.0)), threshold=6)
    assert _together(result, "a", "c") and not _together(result, "c", "d")
    row = result.set_index("record_id").loc["c"]
    assert row.match_weight == 9.0 and row.joined_by == "model"
    assert result.set_index("record_id").loc["d"].joined_by == "singleton"
    assert result.set_index("record_id").loc["a"].cluster_id == "a"   # cluster named by its smallest id


def test_rejected_pair_never_joins_even_through_a_third_record():
    pairs = _pairs(("a", "c", 20.0), ("c", "b", 19.0), ("a", "b", 15.0))
    assert _together(cluster(["a", "b", "c"], pairs, 6), "a", "b")
    result = cluster(["a", "b", "c"], pairs, 6, cannot_link=[("a", "b")])
    assert not _together(result, "a", "b")
    assert _together(result, "a", "c")            # the strongest link wins, the weaker one is refused


def test_rejected_pair_kept_apart_through_a_long_chain():
    chain = _pairs(*[(f"r{i}", f"r{i + 1}", 30.0 - i) for i in range(6)])
    result = cluster([f"r{i}" for i in range(7)], chain, 6, cannot_link=[("r0", "r6")])
    assert not _together(result, "r0", "r6")
    assert result.cluster_id.nunique() == 2


def test_rejection_of_a_member_that_is_not_its_clusters_root():
    """The check covers every member of both clusters, not only their representatives."""
    pairs = _pairs(("x", "y", 30.0), ("a", "c", 29.0), ("c", "d", 28.0), ("y", "d", 20.0))
    assert _together(cluster(["x", "y", "a", "c", "d"], pairs, 6), "y", "a")
    for rejected in (("y", "a"), ("a", "y"), ("x", "c"), ("d", "x")):
        result = cluster(["x", "y", "a", "c", "d"], pairs, 6, cannot_link=[rejected])
        assert not _together(result, *rejected), rejected
        assert _together(result, "x", "y") and _together(result, "a", "d")


def test_confirmed_pair_always_links():
    result = cluster(["a", "b", "c"], _pairs(("a", "b", -20.0)), 6, must_link=[("a", "b")])
    assert _together(result, "a", "b") and result.set_index("record_id").loc["a"].joined_by == "confirmed"
    # a confirmed pair links even when the model scored it below separate_below
    result = cluster(["a", "b"], _pairs(("a", "b", -50.0)), 6, must_link=[("a", "b")], separate_below=-30)
    assert _together(result, "a", "b")


def test_contradictory_decisions_refused():
    with pytest.raises(WorkbenchError, match="contradict"):
        check_decisions([("a", "b"), ("b", "c")], [("a", "c")])
    check_decisions([("a", "b")], [("a", "c")])


def test_strong_negative_pairs_are_kept_apart():
    pairs = _pairs(("a", "c", 20.0), ("c", "b", 19.0), ("a", "b", -40.0))
    assert not _together(cluster(["a", "b", "c"], pairs, 6, separate_below=-30), "a", "b")
    assert _together(cluster(["a", "b", "c"], pairs, 6, separate_below=None), "a", "b")


def test_context_impossible_travel_and_same_referral():
    pairs = pd.DataFrame({"km": [400.0, 400.0, 3.0, None], "hours": [2.0, 5.0, 0.0, 1.0],
                          "group_l": ["r1", "r2", "r3", "r4"], "group_r": ["r9", "r8", "r3", "r5"]})
    reason = context_cannot_link(pairs, {"max_speed_kmh": 130, "slack_minutes": 30, "min_km": 5})
    assert reason.tolist() == ["impossible travel", None, "same referral", None]


# -- the model end to end ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def synthetic():
    frame = person_records(n_people=45, seed=5)
    # two different people both "Lee Scott", no DOB, 400 km apart the same afternoon, each seen often at home
    lee = []
    for k, (lat, lon) in enumerate([(51.50, -0.12), (54.97, -1.61)]):
        for j in range(4):
            lee.append({"record_id": f"L{k}{j}", "forename": "Lee", "surname": "Scott", "dob": None,
                        "lat": lat + 0.01 * j, "lon": lon, "seen_at": datetime(2025, 6, 1 + 7 * j, 14, 0),
                        "truth": f"LEE{k}"})
    lee[4]["seen_at"] = datetime(2025, 6, 1, 15, 0)   # one hour after L00, 400 km away
    frame = pd.concat([frame, pd.DataFrame(lee)], ignore_index=True)
    result, resolution = link_records(frame, "record_id", ROLES)
    return frame, result, resolution


def test_model_finds_people_despite_noise(synthetic):
    frame, result, _ = synthetic
    found = frame.record_id.map(result.set_index("record_id").cluster_id)
    precision, recall, f1 = pairwise_f1(frame.truth, found)
    exact = pairwise_f1(frame.truth, frame.forename.str.lower() + " " + frame.surname.str.lower())
    assert precision >= 0.95 and recall >= 0.85, (precision, recall)
    assert f1 > exact[2] + 0.05, (f1, exact)


def test_same_name_far_apart_same_afternoon_are_two_people(synthetic):
    _, result, resolution = synthetic
    where = result.set_index("record_id").cluster_id
    assert where["L00"] != where["L10"] and where["L00"] == where["L01"]


def test_impossible_travel_cuts_what_names_and_dob_alone_would_link():
    """Without the place comparison the model links two same-named, same-DOB records; the context rule
    (400 km in an hour) keeps them apart, and a third record does not join them either."""
    import dataclasses

    settings = load_settings()
    persons = dict(settings.persons)
    persons["comparisons"] = {k: v for k, v in persons["comparisons"].items() if k != "place"}
    no_place = dataclasses.replace(settings, persons=persons)
    frame = person_records(n_people=40, seed=11)
    lee = pd.DataFrame([
        {"record_id": "LA", "forename": "Lee", "surname": "Scott", "dob": "1991-05-05", "lat": 51.50, "lon": -0.12,
         "seen_at": datetime(2025, 6, 1, 14, 0), "truth": "LEE-A"},
        {"record_id": "LB", "forename": "Lee", "surname": "Scott", "dob": "1991-05-05", "lat": 54.97, "lon": -1.61,
         "seen_at": datetime(2025, 6, 1, 15, 0), "truth": "LEE-B"},
        {"record_id": "LC", "forename": "Lee", "surname": "Scott", "dob": "1991-05-05", "lat": 53.0, "lon": -1.0,
         "seen_at": datetime(2025, 9, 1, 15, 0), "truth": "LEE-C"}])
    frame = pd.concat([frame, lee], ignore_index=True)
    result, resolution = link_records(frame, "record_id", ROLES, settings=no_place)
    pair = resolution.pairs[{*resolution.pairs.id_l, *resolution.pairs.id_r} and
                            (resolution.pairs.id_l.isin(["LA", "LB"]) & resolution.pairs.id_r.isin(["LA", "LB"]))]
    assert len(pair) == 1 and pair.iloc[0].match_weight >= settings.auto_link     # the model alone would link
    assert pair.iloc[0].context == "impossible travel"
    where = result.set_index("record_id").cluster_id
    assert where["LA"] != where["LB"]
    assert where["LC"] in (where["LA"], where["LB"])                                # LC joins one of them only


def test_explanation_table(synthetic):
    frame, _, resolution = synthetic
    table = resolution.explain("L00", "L01")
    assert list(table.columns) == ["comparison", "level", "value_a", "value_b", "match_weight"]
    assert {"prior", "forename", "surname", "dob", "place", "total"} <= set(table.comparison)
    assert table.set_index("comparison").loc["forename", "level"] == "exact"
    assert table.set_index("comparison").loc["forename", "value_a"] == "lee"
    assert table.set_index("comparison").loc["place", "value_a"].count(",") == 1
    parts = table[~table.comparison.isin(["total"])].match_weight.sum()
    assert parts == pytest.approx(table.set_index("comparison").loc["total", "match_weight"], abs=1e-6)
    with pytest.raises(WorkbenchError, match="no record"):
        resolution.explain("L00", "nope")


def test_review_band_pairs_are_not_linked(synthetic):
    _, result, resolution = synthetic
    review = resolution.review_pairs()
    where = result.set_index("record_id").cluster_id
    assert ((review.match_weight >= resolution.settings.review) &
            (review.match_weight < resolution.settings.auto_link)).all()
    assert (review.id_l.map(where) != review.id_r.map(where)).all()


def test_same_input_same_clusters(synthetic):
    frame, result, _ = synthetic
    again, _ = link_records(frame, "record_id", ROLES)
    assert again.cluster_id.tolist() == result.cluster_id.tolist()


# -- bad input ---------------------------------------------------------------------------------------------
def test_hostile_and_empty_names_are_just_data():
    hostile = ["", "J", "<script>alert(1)</script>", "=cmd|' /C calc'!A0", "'); DROP TABLE person_records;--",
               "Иван Петров", "李 小龙", None]
    rows = [{"id": f"h{i}", "full_name": n, "dob": "1990-01-01" if i % 2 else "2999-01-01"}
            for i, n in enumerate(hostile)]
    rows += [{"id": "n1", "full_name": "Ivan Petrov", "dob": "1990-01-01"},
             {"id": "n2", "full_name": "Ivan Petrov", "dob": "1990-01-01"},
             {"id": "n3", "full_name": "Ivan Petrov", "dob": "1800-01-01"}]
    frame = pd.DataFrame(rows)
    result, resolution = link_records(frame, "id", {"full_name": "full_name", "dob": "dob"})
    assert len(result) == len(frame) and set(result.id) == set(frame.id)
    prepared = prepare_person_records(frame, "id", {"full_name": "full_name", "dob": "dob"}).set_index("unique_id")
    assert pd.isna(prepared.loc["h0"].forename_norm) and pd.isna(prepared.loc["h0"].dob)   # empty name, future DOB
    assert pd.isna(prepared.loc["n3"].dob)                                                  # 1800s
    assert prepared.loc["h5"].surname_norm == "петров"
    where = result.set_index("id").cluster_id
    assert where["n1"] == where["n2"]


def test_bad_record_frames_are_refused():
    with pytest.raises(WorkbenchError, match="no id column"):
        prepare_person_records(pd.DataFrame({"a": [1]}), "id")
    with pytest.raises(WorkbenchError, match="not unique"):
        prepare_person_records(pd.DataFrame({"id": ["x", "x"]}), "id")
    with pytest.raises(WorkbenchError, match="column 'Last'"):
        prepare_person_records(pd.DataFrame({"id": ["x"]}), "id", {"surname": "Last"})
    one, _ = link_records(pd.DataFrame({"id": ["x"], "surname": ["Smith"]}), "id", {"surname": "surname"})
    assert one.cluster_id.tolist() == ["x"]


def test_settings_are_validated(tmp_path):
    settings = load_settings()
    assert settings.auto_link > settings.review and settings.version >= 1 and len(settings.sha256) == 64
    bad = tmp_path / "bad.yaml"
    bad.write_text("persons:\n  blocking:\n    - [surname_norm, \"1=1; DROP\"]\n")
    with pytest.raises(WorkbenchError, match="unknown column"):
        load_settings(bad)
    bad.write_text("persons:\n  thresholds: {auto_link: 1, review: 5}\n")
    with pytest.raises(WorkbenchError, match="must not exceed"):
        load_settings(bad)
