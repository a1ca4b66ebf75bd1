"""workbench.hotspots.knox, written for `make mutation` (docs/testing.md, "Mutation testing"): the band function on
and beside every edge (and a first band above 0 m), the refusals with their exact messages, the table's labels,
columns and attributes, a ratio where nothing is expected, events given as a frame, and the permutations split
over jobs. The counts and p-values themselves are pinned by tests/test_hotspots_knox.py (an independent brute
force with pairs exactly on every edge)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.hotspots import knox
from workbench.hotspots.events import HotspotError


def test_band_on_and_beside_every_edge():
    edges = np.array([0.0, 100, 200, 400])
    values = np.array([0.0, 0.5, 100, 100.5, 200, 200.01, 400, 400.01, -1])
    assert knox._band(values, edges).tolist() == [0, 0, 0, 1, 1, 2, 2, -1, -1]
    above = np.array([50.0, 100, 200])                     # a first band that starts above 0 m: [50, 100]
    assert knox._band(np.array([49.9, 50, 50.1, 100, 150, 200, 201]), above).tolist() == [-1, 0, 0, 0, 1, 1, -1]


@pytest.mark.parametrize("kw, message", [
    ({"space_edges": (0,)}, r"^band edges must be increasing with at least two edges each$"),
    ({"time_edges": (0,)}, r"^band edges must be increasing with at least two edges each$"),
    ({"space_edges": (0, 100, 100)}, r"^band edges must be increasing"),
    ({"time_edges": (0, 7, 5)}, r"^band edges must be increasing"),
    ({"time_edges": (1, 7)}, r"^the first time band must start at 0 days and distances cannot be negative$"),
    ({"space_edges": (-1, 100)}, r"^the first time band must start at 0 days"),
    ({"iterations": 0}, r"^the Knox test needs at least one permutation$"),
    ({"engine": "fast"}, r"^unknown Knox engine 'fast': use one of auto, sweep, pairs$"),
])
def test_refusals(kw, message):
    xy = np.array([[0, 0], [10, 0], [20, 0]], dtype=float)
    with pytest.raises(HotspotError, match=message):
        knox.knox(xy=xy, days=np.array([0.0, 1, 2]), **kw)


def test_one_event_is_refused_and_two_are_enough():
    with pytest.raises(HotspotError, match=r"^the Knox test needs at least two events$"):
        knox.knox(xy=np.array([[0.0, 0.0]]), days=np.array([0.0]), iterations=1)
    r = knox.knox(xy=np.array([[0.0, 0.0], [50.0, 0.0]]), days=np.array([0.0, 3.0]), space_edges=(0, 100),
                  time_edges=(0, 7), iterations=1)
    assert r["observed"].tolist() == [1]


@pytest.mark.parametrize("engine", ["pairs", "sweep"])
def test_table_layout_and_attributes(engine):
    xy = np.array([[0, 0], [40, 0], [80, 30], [1500, 0], [1550, 20]], dtype=float)
    days = np.array([0.0, 2.0, 30.0, 3.0, 50.0])
    r = knox.knox(xy=xy, days=days, space_edges=(0, 100, 2000), time_edges=(0, 7, 60), iterations=9, seed=2,
                  engine=engine)
    assert list(r.columns) == ["space_band", "time_band", "space_lo", "space_hi", "time_lo", "time_hi", "observed",
                               "expected", "ratio", "p_value"]
    assert r["space_band"].tolist() == ["0-100 m", "0-100 m", "100-2000 m", "100-2000 m"]
    assert r["time_band"].tolist() == ["0-7 days", "7-60 days", "0-7 days", "7-60 days"]
    assert r["space_lo"].tolist() == [0, 0, 100, 100] and r["space_hi"].tolist() == [100, 100, 2000, 2000]
    assert r["time_lo"].tolist() == [0, 7, 0, 7] and r["time_hi"].tolist() == [7, 60, 7, 60]
    # all ten pairs are within 2000 m. Near (<= 100 m): A-B 40 m 2 days; A-C 85 m 30 days, B-C 50 m 28 days,
    # D-E 54 m 47 days. Far: A-D 3 days, B-D 1 day; A-E 50, B-E 48, C-D 27, C-E 20 days
    assert r["observed"].tolist() == [1, 3, 2, 4] and r.attrs["pairs"] == 10
    assert r.attrs["events"] == 5 and r.attrs["iterations"] == 9 and r.attrs["strategy"] == engine
    assert (r["p_value"] * 10).round(9).mod(1).eq(0).all()            # (1 + k) / (9 + 1)
    assert r["ratio"].tolist() == pytest.approx((r["observed"] / r["expected"]).tolist())


def test_ratio_is_missing_where_nothing_is_expected():
    # two events 50 m and 30 days apart: the only pair is always in the 7-60 day band, never in 0-7
    r = knox.knox(xy=np.array([[0.0, 0.0], [50.0, 0.0]]), days=np.array([0.0, 30.0]), space_edges=(0, 100),
                  time_edges=(0, 7, 60), iterations=5)
    assert r["expected"].tolist() == [0.0, 1.0] and r["observed"].tolist() == [0, 1]
    assert np.isnan(r["ratio"].iat[0]) and r["ratio"].iat[1] == 1.0
    assert r["p_value"].tolist() == [1.0, 1.0]                      # every permutation ties the observed count


def test_events_frame_in_days_from_the_first():
    ev = pd.DataFrame({"latitude": [53.8, 53.8001, 53.9], "longitude": [-1.5, -1.5, -1.5],
                       "occurred_at": pd.to_datetime(["2025-01-01 10:00", "2025-01-03 10:00", "2025-01-01 00:00"])})
    r = knox.knox(ev, space_edges=(0, 100), time_edges=(0, 1, 3), iterations=3)
    # the two near points are 11 m and exactly 2 days apart (band 1-3 days); the third is 11 km away
    assert r["observed"].tolist() == [0, 1] and r.attrs["events"] == 3


@pytest.mark.parametrize("iterations, n_jobs", [(5, 2), (3, 4)])
def test_permutations_split_over_jobs(iterations, n_jobs):
    # the shares add up to `iterations` (jobs capped at iterations); each job draws from its own spawned seed
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 500, (40, 2))
    days = rng.uniform(0, 60, 40)
    r = knox.knox(xy=xy, days=days, iterations=iterations, n_jobs=n_jobs, seed=3, engine="pairs")
    jobs = min(n_jobs, iterations)
    counter = knox._PairCounter(xy, np.asarray(knox.DEFAULT_SPACE_EDGES, float),
                                np.asarray(knox.DEFAULT_TIME_EDGES, float), 2_000_000)
    seeds = np.random.SeedSequence(3).spawn(jobs)
    shares = [iterations // jobs + (1 if k < iterations % jobs else 0) for k in range(jobs)]
    sims = []
    for share, s in zip(shares, seeds):
        g = np.random.default_rng(s)
        sims += [counter.count(days[g.permutation(len(days))]) for _ in range(share)]
    assert len(sims) == iterations
    assert r["expected"].tolist() == pytest.approx(np.mean(sims, axis=0).tolist())


# -- the first run's survivors (docs/testing.md) ---------------------------------------------------------------
def _small():
    rng = np.random.default_rng(5)
    return rng.uniform(0, 400, (30, 2)), rng.uniform(0, 40, 30)


def test_defaults_999_permutations_seed_0():
    xy, days = _small()
    r = knox.knox(xy=xy, days=days, engine="pairs")
    assert r.attrs["iterations"] == 999
    assert r["expected"].tolist() == knox.knox(xy=xy, days=days, engine="pairs", iterations=999,
                                               seed=0)["expected"].tolist()


def test_edges_one_metre_apart_are_fine_and_equal_time_edges_are_not():
    xy, days = _small()
    assert len(knox.knox(xy=xy, days=days, space_edges=(0, 1, 2), time_edges=(0, 1), iterations=1)) == 2
    with pytest.raises(HotspotError, match="increasing"):
        knox.knox(xy=xy, days=days, time_edges=(0, 7, 7), iterations=1)


def test_auto_engine_at_half_the_events_distinct():
    xy = np.array([[0.0, 0], [0, 0], [50, 0], [50, 0]])           # 2 distinct locations for 4 events: sweep
    days = np.array([0.0, 1, 2, 3])
    assert knox.knox(xy=xy, days=days, iterations=1).attrs["strategy"] == "sweep"
    xy3 = np.array([[0.0, 0], [0, 0], [0, 0], [50, 0], [50, 0]])   # 2 of 5: pairs
    assert knox.knox(xy=xy3, days=np.arange(5.0), iterations=1).attrs["strategy"] in ("pairs", "grouped")


def test_grouped_counts_past_an_empty_band():
    # 200 events at each of two stores 300 m apart: band 100-200 m is empty, band 200-400 m holds all
    # 200 x 200 cross pairs; band 0-100 m the 2 x C(200, 2) pairs at one store
    xy = np.repeat(np.array([[0.0, 0.0], [300.0, 0.0]]), 200, axis=0)
    days = np.random.default_rng(1).uniform(0, 30, 400)
    r = knox.knox(xy=xy, days=days, space_edges=(0, 100, 200, 400), time_edges=(0, 1000), iterations=1,
                  engine="pairs")
    assert r.attrs["strategy"] == "grouped"
    assert r["observed"].tolist() == [2 * 200 * 199 // 2, 0, 200 * 200]


def test_pair_counts_do_not_depend_on_the_chunk():
    rng = np.random.default_rng(9)
    xy = rng.uniform(0, 3000, (300, 2))
    days = rng.uniform(0, 100, 300)
    whole = knox.knox(xy=xy, days=days, iterations=3, engine="pairs")
    assert whole.attrs["strategy"] == "pairs"
    small = knox.knox(xy=xy, days=days, iterations=3, engine="pairs", chunk=7)
    assert small["observed"].tolist() == whole["observed"].tolist()
    assert small["expected"].tolist() == whole["expected"].tolist()
