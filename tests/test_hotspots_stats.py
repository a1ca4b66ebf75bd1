"""Knox near-repeat test, Getis-Ord Gi* with FDR, emerging hot spot categories, KDE bandwidth choice."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.hotspots import cells, emerging, gistar, kde, knox
from workbench.hotspots.counts import CountMatrix
from workbench.hotspots.events import HotspotError


# -- Knox ------------------------------------------------------------------------------------------
def test_knox_tiny_fixture_by_hand():
    # A (0 m, day 0), B (50 m, day 1), C (1000 m, day 30). Bands: space [0,100], (100,2000];
    # time [0,7], (7,60].
    # Pairs: AB 50 m, 1 day -> (near, close); AC 1000 m, 30 days -> (far, late); BC 950 m, 29 days -> (far, late).
    # Under shuffled times each of the 6 orders of {0, 1, 30} is equally likely. Exactly one of the three
    # pairs receives the two times {0, 1} (1 day apart); it is AB with probability 1/3. So the expected
    # count is 1/3 for (near, close), 2/3 for (near, late), 2/3 for (far, close) and 4/3 for (far, late);
    # observed/expected = 3 for (near, close) and 1.5 for (far, late); P(count >= 1 in (near, close)) = 1/3.
    xy = np.array([[0, 0], [50, 0], [1000, 0]], dtype=float)
    days = np.array([0, 1, 30], dtype=float)
    r = knox.knox(xy=xy, days=days, space_edges=(0, 100, 2000), time_edges=(0, 7, 60), iterations=3000, seed=5)
    table = r.set_index(["space_band", "time_band"])
    assert list(r["observed"]) == [1, 0, 0, 2]
    expected = {("0-100 m", "0-7 days"): 1 / 3, ("0-100 m", "7-60 days"): 2 / 3,
                ("100-2000 m", "0-7 days"): 2 / 3, ("100-2000 m", "7-60 days"): 4 / 3}
    for key, value in expected.items():
        assert table.loc[key, "expected"] == pytest.approx(value, abs=0.04)
    assert table.loc[("0-100 m", "0-7 days"), "ratio"] == pytest.approx(3, rel=0.12)
    assert table.loc[("0-100 m", "0-7 days"), "p_value"] == pytest.approx(1 / 3, abs=0.04)
    # observed 0 is always reached: p = (1 + 3000) / 3001
    assert table.loc[("0-100 m", "7-60 days"), "p_value"] == 1.0


def test_knox_band_boundaries():
    # Convention: (lo, hi] with the first band closed at 0. A-B exactly 100 m and 7 days apart fall in the
    # first bands; A-C 100.5 m and 7.5 days in the second; B-C 141.8 m, 0.5 days -> (far, close);
    # D is 5 km away (beyond the last edge, never counted); E and F share a location 3 days apart
    # -> (near, close). Observed: (near, close) = 2 [AB, EF], (near, late) = 0, (far, close) = 1, (far, late) = 1.
    xy = np.array([[0, 0], [100, 0], [0, 100.5], [5000, 0], [9000, 9000], [9000, 9000]], dtype=float)
    days = np.array([0, 7, 7.5, 3, 40, 43], dtype=float)
    r = knox.knox(xy=xy, days=days, space_edges=(0, 100, 2000), time_edges=(0, 7, 60), iterations=9)
    assert list(r["observed"]) == [2, 0, 1, 1]


@pytest.mark.parametrize("shared, engine, strategy", [
    (True, "auto", "grouped"),          # many shared locations: the pair counter, grouped by location
    (False, "auto", "sweep"),           # every event at its own point: the sweep (numba is a pinned dependency)
    (False, "pairs", "pairs"),
    (True, "sweep", "sweep"),
])
def test_knox_counting_matches_brute_force(shared, engine, strategy):
    from scipy.spatial.distance import pdist

    rng = np.random.default_rng(3)
    if shared:                                                # many events share a location (stores)
        xy = rng.uniform(0, 3000, (40, 2))[rng.integers(0, 40, 1500)]
    else:                                                     # every event at its own point
        xy = rng.uniform(0, 3000, (1500, 2))
    days = rng.uniform(0, 200, 1500)
    r = knox.knox(xy=xy, days=days, iterations=2, engine=engine)
    assert r.attrs["strategy"] == strategy
    i, j = np.triu_indices(len(xy), 1)
    s_edges, t_edges = np.array(knox.DEFAULT_SPACE_EDGES, float), np.array(knox.DEFAULT_TIME_EDGES, float)
    seconds = np.round(days * 86400).astype(np.int64)           # times are compared in whole seconds
    sb = knox._band(pdist(xy), s_edges)
    tb = knox._band(np.abs(seconds[i] - seconds[j]).astype(float), t_edges * 86400)
    ok = (sb >= 0) & (tb >= 0)
    brute = np.bincount(sb[ok] * (len(t_edges) - 1) + tb[ok], minlength=len(r))
    assert list(r["observed"]) == list(brute)


def test_knox_detects_planted_near_repeats():
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 5000, (300, 2))
    days = rng.uniform(0, 365, 300)
    # 60 follow-up events 20 m and 2 days after an original
    src = rng.choice(300, 60, replace=False)
    xy = np.vstack([xy, xy[src] + [20, 0]])
    days = np.concatenate([days, days[src] + 2])
    r = knox.knox(xy=xy, days=days, space_edges=(0, 100, 400), time_edges=(0, 7, 28), iterations=199)
    first = r.iloc[0]
    assert first["ratio"] > 3 and first["p_value"] <= 0.01
    with pytest.raises(HotspotError):
        knox.knox(xy=xy[:1], days=days[:1])


# -- Gi* -------------------------------------------------------------------------------------------
def _grid(n: int = 30, size: int = 100) -> pd.DataFrame:
    ij = np.array([(i, j) for i in range(n) for j in range(n)])
    return pd.DataFrame({"unit_id": [f"{i}_{j}" for i, j in ij], "x": (ij[:, 0] + 0.5) * size,
                         "y": (ij[:, 1] + 0.5) * size})


def test_gistar_detects_planted_cluster():
    units = _grid()
    rng = np.random.default_rng(0)
    y = rng.poisson(1.0, len(units)).astype(float)
    ij = units["unit_id"].str.split("_", expand=True).astype(int)
    block = ij[0].between(10, 12) & ij[1].between(20, 22)
    y[block.to_numpy()] += 8
    r = gistar.gi_star(y, units, 100.0, "grid", permutations=999)
    hot = r["significant"] & (r["gi_z"] > 0)
    assert hot[block.to_numpy()].all()                                 # the whole planted block
    assert hot[~block.to_numpy()].sum() <= 16                          # only its immediate rim besides
    assert r.loc[block.to_numpy(), "category"].str.startswith("Hot spot").all()


def test_fdr_reduces_false_positives_on_noise():
    units = _grid()
    y = np.random.default_rng(1).poisson(2.0, len(units)).astype(float)
    r = gistar.gi_star(y, units, 100.0, "grid", permutations=999)
    raw = int((r["p_value"] <= 0.05).sum())
    assert raw > 10                                  # ~5% of 900 units pass uncorrected
    assert int(r["significant"].sum()) < raw / 3     # FDR removes most of them
    # BH by hand, m = 4: sorted p 0.01, 0.03, 0.04, 0.5 -> p*m/rank 0.04, 0.06, 0.0533, 0.5 -> running minimum
    # from the largest rank down: 0.04, 0.0533, 0.0533, 0.5
    assert gistar.bh_adjust(np.array([0.01, 0.04, 0.03, 0.5])) == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.5])


# -- emerging hot spots -----------------------------------------------------------------------------
_ = 0   # readability of the hand-made series below: 1 = significant in that period, oldest first


@pytest.mark.parametrize("hot, cold, trend, expected", [
    # one hand-made series per category, hot side
    ([_, _, _, _, _, _, _, _, _, 1], [_] * 10, "no trend", "New hot spot"),
    ([_, _, _, _, _, _, _, 1, 1, 1], [_] * 10, "no trend", "Consecutive hot spot"),
    ([1] * 10, [_] * 10, "increasing", "Intensifying hot spot"),
    ([1] * 10, [_] * 10, "no trend", "Persistent hot spot"),
    ([1] * 10, [_] * 10, "decreasing", "Diminishing hot spot"),
    ([_, 1, 1, 1, 1, 1, 1, 1, 1, 1], [_] * 10, "no trend", "Persistent hot spot"),      # 9 of 10 = 90%
    ([1, _, 1, _, _, 1, _, _, 1, 1], [_] * 10, "no trend", "Sporadic hot spot"),
    ([1, _, 1, _, _, 1, _, _, 1, 1], [_, 1, _, _, _, _, _, _, _, _], "no trend", "Oscillating hot spot"),
    ([1, 1, 1, 1, 1, 1, 1, 1, 1, _], [_] * 10, "decreasing", "Historical hot spot"),    # 9 of ALL 10 = 90%
    # Historical counts ALL time steps: hot in 10 of 12, not the last -> 83%: no pattern (not Historical)
    ([_, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, _], [_] * 12, "no trend", "No pattern detected"),
    ([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, _], [_] * 12, "no trend", "Historical hot spot"),   # 11 of 12
    ([_, 1, _, _, _, _, _, _, _, _], [_] * 10, "no trend", "No pattern detected"),
    # a run after an earlier hot period is not Consecutive
    ([1, _, _, _, _, _, _, 1, 1, 1], [_] * 10, "no trend", "Sporadic hot spot"),
    # cold side (trend reversed: a falling z is an intensifying cold spot)
    ([_] * 10, [_, _, _, _, _, _, _, _, _, 1], "no trend", "New cold spot"),
    ([_] * 10, [_, _, _, _, _, _, _, _, 1, 1], "no trend", "Consecutive cold spot"),
    ([_] * 10, [1] * 10, "decreasing", "Intensifying cold spot"),
    ([_] * 10, [1] * 10, "no trend", "Persistent cold spot"),
    ([_] * 10, [1] * 10, "increasing", "Diminishing cold spot"),
    ([_] * 10, [1, _, _, 1, _, _, _, 1, _, 1], "no trend", "Sporadic cold spot"),
    ([_, _, 1, _, _, _, _, _, _, _], [1, _, _, 1, _, _, _, 1, _, 1], "no trend", "Oscillating cold spot"),
    ([_] * 10, [1, 1, 1, 1, 1, 1, 1, 1, 1, _], "no trend", "Historical cold spot"),
    # the side significant in the final period is classified first
    ([1, 1, 1, 1, 1, 1, 1, 1, 1, _], [_, _, _, _, _, _, _, _, _, 1], "decreasing", "New cold spot"),
])
def test_emerging_categories(hot, cold, trend, expected):
    assert emerging.classify(hot, cold, trend) == expected


def test_emerging_historical_from_counts():
    # a 3 x 3 block busy in 11 of 12 weeks, quiet in the final one: Historical; a second block busy in
    # 10 of 12 (not the first, not the last): hot in 83% of the weeks, so no pattern
    units = _grid(15).assign(force_code="13", latitude=53.8, longitude=-1.5, area_km2=0.01, label="")
    ij = units["unit_id"].str.split("_", expand=True).astype(int)
    T = 12
    counts = np.random.default_rng(8).poisson(0.3, (len(units), T)).astype(float)
    a = (ij[0].between(2, 4) & ij[1].between(2, 4)).to_numpy()
    b = (ij[0].between(9, 11) & ij[1].between(9, 11)).to_numpy()
    counts[np.ix_(a, np.arange(T - 1))] += 10
    counts[np.ix_(b, np.arange(1, T - 1))] += 10
    cm = CountMatrix(unit=cells.Unit("grid", 100), period="week", units=units,
                     periods=pd.date_range("2025-01-06", periods=T, freq="7D"), counts=counts)
    r = emerging.emerging_hot_spots(cm).set_index("unit_id")
    assert r.loc["3_3", "periods_hot"] == 11 and r.loc["3_3", "category"] == "Historical hot spot"
    assert r.loc["10_10", "periods_hot"] == 10 and r.loc["10_10", "category"] == "No pattern detected"


def test_emerging_end_to_end_on_constructed_series():
    units = _grid(15).assign(force_code="13", latitude=53.8, longitude=-1.5, area_km2=0.01, label="")
    ij = units["unit_id"].str.split("_", expand=True).astype(int)
    rng = np.random.default_rng(2)
    T = 10
    counts = rng.poisson(0.3, (len(units), T)).astype(float)
    new_block = (ij[0].between(2, 4) & ij[1].between(2, 4)).to_numpy()
    grow_block = (ij[0].between(9, 11) & ij[1].between(9, 11)).to_numpy()
    counts[new_block, -1] += 12                                   # hot only in the final period
    counts[grow_block, :] += np.arange(6, 6 + 3 * T, 3)           # hot throughout, growing
    cm = CountMatrix(unit=cells.Unit("grid", 100), period="week", units=units,
                     periods=pd.date_range("2025-01-06", periods=T, freq="7D"), counts=counts)
    r = emerging.emerging_hot_spots(cm).set_index("unit_id")
    centre_new, centre_grow = "3_3", "10_10"
    assert r.loc[centre_new, "category"] == "New hot spot"
    assert r.loc[centre_grow, "category"] == "Intensifying hot spot" and r.loc[centre_grow, "trend"] == "increasing"
    assert emerging.mann_kendall([1, 2, 3, 4, 5, 6]) == "increasing" and emerging.mann_kendall([2, 2, 2]) == "no trend"


# -- KDE --------------------------------------------------------------------------------------------
def test_kde_surface_and_bandwidth_choice():
    rng = np.random.default_rng(4)
    x0, y0 = cells.to_metric([53.8], [-1.55])
    xy = np.column_stack([x0[0] + rng.normal(0, 200, 400), y0[0] + rng.normal(0, 200, 400)])
    lat, lon = cells.to_lonlat(xy[:, 0], xy[:, 1])
    ev = pd.DataFrame({"latitude": lat, "longitude": lon, "occurred_at": pd.Timestamp("2025-01-01")})
    surf = kde.kde_surface(ev, bandwidth_m=300, cell_m=100)
    peak = surf.loc[surf["density"].idxmax()]
    assert abs(peak["x"] - x0[0]) < 150 and abs(peak["y"] - y0[0]) < 150
    # integral of the density over the grid ~ number of events (density per km2 x cell area)
    assert surf["density"].sum() * 0.01 == pytest.approx(400, rel=0.02)
    table = kde.choose_bandwidth(ev, candidates=(20, 150, 2000))
    assert table.iloc[0]["bandwidth_m"] == 150        # points spread ~200 m: neither 20 m nor 2 km


def test_the_compiled_knox_engine_is_installed():
    """numba is a pinned dependency (the sweep engine's 40k-event target needs it); without it Knox falls back to
    the pair counter silently, so a set-up that lost it must fail here."""
    assert knox._numba_available()
    assert knox._kernel() is not knox._sweep_kernel          # compiled, not the plain-Python fallback
