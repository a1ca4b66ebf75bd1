"""Linkage at national scale: the national settings (blocking within a place cell, conflicting births kept apart),
the conflicting-births rule of the clustering, betweenness per component, DuckDB engine settings and the per-stage
timing of a run."""
from __future__ import annotations

import networkx as nx
import pandas as pd
import pytest

from workbench.errors import ConfigError
from workbench.linkage import stages
from workbench.linkage.clustering import cluster, dobs_compatible
from workbench.linkage.groups import _betweenness
from workbench.linkage.settings import load_settings


def _pairs(rows):
    return pd.DataFrame(rows, columns=["id_l", "id_r", "match_weight"])


def _groups(frame):
    return {frozenset(g) for g in frame.groupby("cluster_id").record_id.apply(set)}


# -- conflicting births ------------------------------------------------------------------------------------
def test_a_mention_without_birth_cannot_chain_two_births_together():
    ids = ["A", "N", "B"]
    pairs = _pairs([("A", "N", 12.0), ("N", "B", 11.0)])           # N has no DOB: links to both by name
    dobs = {"A": "1990-06-09", "B": "1984-04-26"}
    assert _groups(cluster(ids, pairs, 6.0)) == {frozenset(ids)}   # without the rule: one chained cluster
    assert _groups(cluster(ids, pairs, 6.0, dobs=dobs)) == {frozenset({"A", "N"}), frozenset({"B"})}


@pytest.mark.parametrize("other", ["1990-09-06",      # day and month swapped
                                   "1990-06-08",      # one digit typo
                                   "1990-06-90"])     # two adjacent digits swapped (text, as recorded)
def test_births_within_the_tolerated_errors_still_chain(other):
    pairs = _pairs([("A", "N", 12.0), ("N", "B", 11.0)])
    joined = cluster(["A", "N", "B"], pairs, 6.0, dobs={"A": "1990-06-09", "B": other})
    assert _groups(joined) == {frozenset({"A", "N", "B"})}


def test_a_pair_scored_on_both_births_may_still_join_and_one_agreeing_birth_is_enough():
    # the model saw both births on this pair and still linked it (a birth recorded against the wrong person)
    direct = cluster(["A", "B"], _pairs([("A", "B", 8.0)]), 6.0, dobs={"A": "1990-06-09", "B": "1984-04-26"})
    assert _groups(direct) == {frozenset({"A", "B"})}
    # a cluster holding one stray birth beside its own still takes a mention of its own birth through N
    pairs = _pairs([("A", "X", 9.0), ("A", "N", 8.5), ("N", "B", 8.0)])
    dobs = {"A": "1990-06-09", "X": "1971-01-01", "B": "1990-06-09"}
    assert _groups(cluster(["A", "X", "N", "B"], pairs, 6.0, dobs=dobs)) == {frozenset({"A", "X", "N", "B"})}


def test_confirmed_pairs_override_conflicting_births():
    joined = cluster(["A", "B"], _pairs([]), 6.0, must_link=[("A", "B")], dobs={"A": "1990-06-09", "B": "1971-01-01"})
    assert _groups(joined) == {frozenset({"A", "B"})}


def test_dobs_compatible_matches_the_model_levels():
    assert dobs_compatible("1990-06-09", "1990-06-09")
    assert dobs_compatible("1990-06-09", "1990-09-06")
    assert dobs_compatible("1990-06-09", "1990-06-19")
    assert not dobs_compatible("1990-06-09", "1990-07-19")           # two edits
    assert not dobs_compatible("1990-06-09", "1984-04-26")
    assert dobs_compatible("1990-06-09", "1990-06-29", max_edits=1)
    assert not dobs_compatible("1990-06-09", "1990-06-19", max_edits=0)


# -- national settings ---------------------------------------------------------------------------------------
def test_national_settings_apply_from_the_configured_size(tmp_path):
    settings = load_settings()
    national = settings.persons["national"]
    small = settings.for_records(int(national["from_records"]) - 1)
    assert small is settings and not small.persons["context"].get("conflicting_dob")
    big = settings.for_records(int(national["from_records"]))
    assert big.persons["blocking"] == national["blocking"] and big.persons["context"]["conflicting_dob"] is True
    assert big.persons["context"]["max_speed_kmh"] == settings.persons["context"]["max_speed_kmh"]   # merged
    assert all("place_cell" in rule or "dob" in rule or not isinstance(rule, list) or rule in
               (["alias_norm"], ["other_id"]) for rule in big.persons["blocking"])
    assert settings.persons["blocking"] != big.persons["blocking"]
    assert big.auto_link == national["thresholds"]["auto_link"] < settings.auto_link
    assert big.review == settings.review


@pytest.mark.parametrize("text, needle", [
    ("persons:\n  national:\n    from_records: 10\n    colour: red\n", "unknown persons.national"),
    ("persons:\n  national:\n    from_records: 10\n    blocking:\n      - [nope]\n", "unknown column"),
    ("persons:\n  duckdb:\n    memory_limit: \"4GB'; DROP TABLE x; --\"\n", "memory_limit"),
    ("persons:\n  duckdb:\n    threads: 0\n", "threads"),
    ("persons:\n  national:\n    from_records: 10\n    thresholds:\n      auto_link: -5\n", "review must not exceed"),
    ("persons:\n  duckdb:\n    temp_directory: \"/tmp/x'y\"\n", "temp_directory"),
])
def test_bad_national_and_engine_settings_are_one_clear_error(tmp_path, text, needle):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=needle):
        load_settings(path)


def test_engine_settings_reach_duckdb(tmp_path):
    from workbench.linkage.model import PersonModel
    from workbench.linkage.records import prepare_person_records

    path = tmp_path / "engine.yaml"
    path.write_text(f"persons:\n  duckdb:\n    threads: 1\n    memory_limit: 700MB\n    temp_directory: {tmp_path}\n")
    frame = pd.DataFrame({"id": ["1", "2", "3"], "forename": ["Ann", "Anne", "Bob"], "surname": ["Lee", "Lee", "Ray"]})
    model = PersonModel(load_settings(path), prepare_person_records(frame, "id", {"forename": "forename",
                                                                                 "surname": "surname"}))
    try:
        got = dict(model.con.execute("SELECT name, value FROM duckdb_settings() WHERE name IN "
                                     "('threads', 'memory_limit', 'temp_directory')").fetchall())
    finally:
        model.con.close()
    assert got["threads"] == "1" and got["temp_directory"] == str(tmp_path)
    assert got["memory_limit"].replace(" ", "") in ("667.5MiB", "700.0MB", "667.5MB")


# -- betweenness ---------------------------------------------------------------------------------------------
def test_betweenness_per_component_equals_the_whole_graph_and_estimates_large_ones():
    import random

    rng = random.Random(3)
    graph = nx.Graph()
    for _ in range(260):
        a, b = rng.randrange(90), rng.randrange(90)
        if a != b:
            graph.add_edge(f"p{a}", f"p{b}", distance=1.0 / rng.randint(1, 4))
    for i in range(0, 30, 3):                                   # small separate crews
        graph.add_edge(f"c{i}", f"c{i + 1}", distance=1.0)
        graph.add_edge(f"c{i + 1}", f"c{i + 2}", distance=0.5)
    whole = nx.betweenness_centrality(graph, weight="distance", normalized=True)
    mine = _betweenness(graph, exact_max_nodes=1000, seed=1)
    assert mine == pytest.approx(whole, abs=1e-12)
    estimate = _betweenness(graph, exact_max_nodes=30, seed=1)   # the big component sampled from 30 sources
    assert estimate != pytest.approx(whole, abs=1e-12)
    assert max(abs(estimate[n] - whole[n]) for n in whole) < 0.05
    assert all(estimate[f"c{i + 1}"] == pytest.approx(whole[f"c{i + 1}"]) for i in range(0, 30, 3))


# -- stages ----------------------------------------------------------------------------------------------------
def test_stages_are_timed_only_inside_a_recording():
    with stages.stage("outside") as row:
        pass
    assert row == {}
    with stages.recording() as recorded:
        with stages.stage("persons", records=3):
            with stages.stage("train") as inner:
                block = bytearray(30 * 2 ** 20)            # 30 MB held during the stage
                inner["note"] = len(block)
                del block
    assert [r["stage"] for r in recorded] == ["persons", "persons/train"]
    outer, train = recorded
    assert outer["records"] == 3 and train["note"] == 30 * 2 ** 20
    assert outer["wall_s"] >= train["wall_s"] >= 0 and outer["cpu_s"] >= train["cpu_s"] >= 0
    assert train["peak_rss_mb"] >= train["rss_end_mb"] - 1 and train["peak_rss_mb"] > 0


def test_full_names_written_surname_first_are_parsed_surname_first():
    from workbench.linkage.records import prepare_person_records

    frame = pd.DataFrame({"id": ["1", "2", "3"], "name": ["WRIGHT, Dean", "Dean Wright", "SMITH-JONES, Mary Ann"]})
    prepared = prepare_person_records(frame, "id", {"full_name": "name"})
    assert prepared.forename_norm.tolist() == ["dean", "dean", "mary"]
    assert prepared.surname_norm.tolist() == ["wright", "wright", "smith-jones"]
