"""workbench.hotspots.emerging, written to kill mutants that survived `make mutation` (docs/testing.md): the
Mann-Kendall trend against a reference computed here by hand (no ties: S, var = n(n-1)(2n+5)/18, continuity
correction, two-sided normal p), its alpha and short-series guard; emerging_hot_spots' window (`periods`),
alpha and p_method passed on, exact per-unit tallies, active units only, and its order."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tests.test_hotspots_stats import _grid
from workbench.hotspots import cells, emerging
from workbench.hotspots.counts import CountMatrix
from workbench.hotspots.events import HotspotError


def mk_reference(series, alpha: float) -> str:
    """Mann-Kendall without ties, by the textbook formulas (not pymannkendall)."""
    x = list(map(float, series))
    n = len(x)
    s = sum((x[j] > x[i]) - (x[j] < x[i]) for i in range(n) for j in range(i + 1, n))
    var = n * (n - 1) * (2 * n + 5) / 18
    z = (s - 1) / math.sqrt(var) if s > 0 else (s + 1) / math.sqrt(var) if s < 0 else 0.0
    p = math.erfc(abs(z) / math.sqrt(2))
    if p >= alpha:
        return "no trend"
    return "increasing" if z > 0 else "decreasing"


@pytest.mark.parametrize("series, alpha", [
    ([1, 2, 3], 0.5),            # p = 0.30: a trend only at a loose alpha (short series are still tested)
    ([1, 2, 3], 0.05),
    ([1, 2, 3, 4], 0.05),        # p = 0.089
    ([1, 2, 3, 4], 0.1),
    ([5, 4, 3, 2, 1], 0.05),     # p = 0.027
    ([5, 4, 3, 2, 1], 0.01),
    ([1, 3, 2, 5, 4, 7, 6, 9], 0.05),
])
def test_mann_kendall_matches_the_textbook_test(series, alpha):
    assert emerging.mann_kendall(series, alpha=alpha) == mk_reference(series, alpha)


def test_mann_kendall_default_alpha_and_guards():
    assert emerging.mann_kendall([1, 2, 3, 4]) == "no trend" == mk_reference([1, 2, 3, 4], 0.05)
    assert emerging.mann_kendall([4, 3, 2, 1, 0]) == "decreasing"
    assert emerging.mann_kendall([1, 2], alpha=0.99) == "no trend"          # fewer than three values
    assert emerging.mann_kendall([3.0, 3.0, 3.0, 3.0, 3.0, 3.0], alpha=0.99) == "no trend"   # constant


def _matrix(T: int = 12, seed: int = 8):
    """A 15 x 15 grid: block A busy in every period but the final one, block B busy in the final period only,
    a corner never with crime."""
    units = _grid(15).assign(force_code="13", latitude=53.8, longitude=-1.5, area_km2=0.01, label="")
    ij = units["unit_id"].str.split("_", expand=True).astype(int)
    counts = np.random.default_rng(seed).poisson(0.3, (len(units), T)).astype(float)
    a = (ij[0].between(2, 4) & ij[1].between(2, 4)).to_numpy()
    b = (ij[0].between(9, 11) & ij[1].between(9, 11)).to_numpy()
    empty = (ij[0] >= 13) & (ij[1] >= 13)
    counts[np.ix_(a, np.arange(T - 1))] += 10
    counts[b, -1] += 12
    counts[empty.to_numpy(), :] = 0
    return CountMatrix(unit=cells.Unit("grid", 100), period="week", units=units,
                       periods=pd.date_range("2025-01-06", periods=T, freq="7D"), counts=counts), counts


def test_window_tallies_and_active_units():
    cm, counts = _matrix()
    full = emerging.emerging_hot_spots(cm)
    assert full.equals(emerging.emerging_hot_spots(cm, periods=12))
    r = full.set_index("unit_id")
    assert len(r) == int((counts.sum(axis=1) > 0).sum()) and "14_14" not in r.index       # active units only
    assert (r.loc["3_3", "periods_hot"], r.loc["3_3", "periods_cold"]) == (11, 0)
    assert r.loc["3_3", "category"] == "Historical hot spot"
    assert (r.loc["10_10", "periods_hot"], r.loc["10_10", "category"]) == (1, "New hot spot")
    assert r.loc["10_10", "final_z"] > 3 > r.loc["3_3", "final_z"]
    assert r.loc["3_3", "total"] == counts[cm.units["unit_id"].eq("3_3").to_numpy()].sum()
    # ordered by category, then the busiest unit first
    assert list(full["category"]) == sorted(full["category"])
    for _, group in full.groupby("category"):
        assert group["total"].is_monotonic_decreasing

    last3 = emerging.emerging_hot_spots(cm, periods=3).set_index("unit_id")   # the last three periods only
    assert last3.loc["3_3", "periods_hot"] == 2 and last3.loc["3_3", "category"] != "Historical hot spot"
    assert last3.loc["3_3", "total"] == counts[cm.units["unit_id"].eq("3_3").to_numpy(), -3:].sum()


def test_alpha_and_p_method_are_passed_on():
    cm, _ = _matrix()
    none = emerging.emerging_hot_spots(cm, alpha=0.0)                      # q <= 0 never: nothing significant
    assert set(none["category"]) == {"No pattern detected"} and none["periods_hot"].sum() == 0
    assert none["periods_cold"].sum() == 0
    with pytest.raises(HotspotError, match="p_method"):
        emerging.emerging_hot_spots(cm, p_method="bogus")
    normal = emerging.emerging_hot_spots(cm, p_method="normal").set_index("unit_id")
    assert normal.loc["10_10", "category"] == "New hot spot"


def test_fewer_than_two_periods_is_refused():
    cm, _ = _matrix(T=3)
    with pytest.raises(HotspotError, match="at least two periods"):
        emerging.emerging_hot_spots(cm, periods=1)
    assert len(emerging.emerging_hot_spots(cm, periods=2)) > 0


_ = 0


@pytest.mark.parametrize("hot, cold, expected", [
    ([], [], "No pattern detected"),
    ([1], [_], "New hot spot"),                                                   # one period: new
    ([_, _, _, _, _, _, 1, _, 1, 1], [_] * 10, "Sporadic hot spot"),              # a run of two, hot before it
    ([_, _, _, _, _, _, _, 1, 1, 1], [_] * 10, "Consecutive hot spot"),           # a run of three, nothing before
    ([1, _, _, _, _, _, _, _, _, 1], [_, _, _, _, _, _, _, _, 1, _], "Oscillating hot spot"),  # cold just before
    ([1, _, _, _, _, _, _, _, _, 1], [_, _, _, _, _, _, _, _, _, _], "Sporadic hot spot"),
])
def test_classify_runs_and_oscillation(hot, cold, expected):
    assert emerging.classify(hot, cold, "no trend") == expected
