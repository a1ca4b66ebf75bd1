"""workbench.hotspots.gistar, written against mutants of `make mutation` (docs/testing.md, "Mutation testing"):
Benjamini-Hochberg q-values, the exact moments and the neighbourhoods worked out by hand on tiny fixtures, the
confidence bins exactly on their cuts, the fallback for values that are not counts, the checks on the inputs,
the attributes the map reports, the weights' defaults and `hot_spots`' window of periods."""
from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from scipy.stats import norm

from workbench.hotspots import cells, gistar
from workbench.hotspots.counts import CountMatrix
from workbench.hotspots.events import HotspotError


def _line(n: int, size: float = 100.0) -> pd.DataFrame:
    """n units on a line, 100 m apart: with the default threshold (150 m) each has its one or two neighbours."""
    return pd.DataFrame({"unit_id": [f"u{i}" for i in range(n)], "x": np.arange(n) * size + 50.0,
                         "y": np.full(n, 50.0)})


def test_bh_adjust_by_hand():
    # sorted p 0.01, 0.03, 0.04, 0.5 -> p * n / rank = 0.04, 0.06, 0.0533, 0.5 -> running minimum from the top
    q = gistar.bh_adjust(np.array([0.04, 0.01, 0.5, 0.03]))
    assert q == pytest.approx([4 * 0.04 / 3, 0.04, 0.5, 4 * 0.04 / 3], rel=1e-12)
    assert gistar.bh_adjust(np.array([0.2])) == pytest.approx([0.2])
    assert gistar.bh_adjust([0.9, 0.9, 0.9]) == pytest.approx([0.9, 0.9, 0.9])


def test_exact_moments_by_hand():
    # y = 0, 1, 2, 3: mean 1.5, variance (divided by n) 1.25; m = 2 of 4 without replacement:
    # mean 3, variance 2 (4 - 2) / 3 * 1.25
    mean, var = gistar.exact_moments(np.array([0.0, 1.0, 2.0, 3.0]), np.array([1, 2, 4]))
    assert mean == pytest.approx([1.5, 3.0, 6.0])
    assert var == pytest.approx([1.25, 2 * 2 / 3 * 1.25, 0.0])
    # against enumeration of every pair of the four values
    sums = [a + b for a, b in itertools.combinations([0, 1, 2, 3], 2)]
    assert np.var(sums) == pytest.approx(var[1]) and np.mean(sums) == pytest.approx(mean[1])


def test_neighbourhoods_count_the_unit_once_and_ignore_weight_values():
    # weights on a line of four, with a self-loop and non-binary values that must not change anything
    class W:
        sparse = sparse.csr_matrix(np.array([[5.0, 2, 0, 0], [1, 0, 3, 0], [0, 1, 0, 1], [0, 0, 7, 0]]))
    S, m = gistar.neighbourhoods(np.array([1.0, 10.0, 100.0, 1000.0]), W())
    assert S.tolist() == [11.0, 111.0, 1110.0, 1100.0]
    assert m.tolist() == [2, 3, 3, 2]


def test_weights_defaults_threshold_and_knn():
    units = _line(5)
    w = gistar.weights(units, 100.0, "grid")                      # 1.5 x 100 m: the direct neighbours only
    assert sorted(w.neighbors[0]) == [1] and sorted(w.neighbors[2]) == [1, 3]
    w = gistar.weights(units, 100.0, "grid", threshold_m=250.0)  # an explicit threshold wins
    assert sorted(w.neighbors[2]) == [0, 1, 3, 4]
    w = gistar.weights(units, 100.0, "lsoa")                     # k nearest, k capped at n - 1
    assert all(len(w.neighbors[i]) == 4 for i in range(5))
    w = gistar.weights(_line(9), 100.0, "lsoa")                  # default k = 6
    assert all(len(w.neighbors[i]) == 6 for i in range(9))
    w = gistar.weights(units, 100.0, "lsoa", threshold_m=120.0)  # a threshold turns LSOAs to a distance band
    assert sorted(w.neighbors[2]) == [1, 3]


def test_categories_exactly_on_the_cuts():
    z = np.array([1.0, 1.0, 1.0, 1.0, -2.0, -2.0, -2.0, 0.0, 3.0])
    q = np.array([0.01, 0.05, 0.10, 0.1000001, 0.0100001, 0.0500001, 0.0, 0.001, 0.010])
    assert gistar.categories(z, q) == ["Hot spot 99%", "Hot spot 95%", "Hot spot 90%", "Not significant",
                                       "Cold spot 95%", "Cold spot 90%", "Cold spot 99%", "Not significant",
                                       "Hot spot 99%"]


def test_input_checks():
    units = _line(5)
    y = np.array([0, 1, 2, 3, 4], dtype=float)
    with pytest.raises(HotspotError, match=r"unknown p_method 'fast': use exact, permutation, normal"):
        gistar.gi_star(y, units, 100.0, p_method="fast")
    with pytest.raises(HotspotError, match=r"^p_method 'permutation' needs permutations > 0$"):
        gistar.gi_star(y, units, 100.0, p_method="permutation")
    with pytest.raises(HotspotError, match=r"^values and units differ in length$"):
        gistar.gi_star(y[:4], units, 100.0)
    with pytest.raises(HotspotError, match=r"^Gi\* needs at least three units$"):
        gistar.gi_star(y[:2], units.iloc[:2], 100.0)
    assert len(gistar.gi_star(y[:3], units.iloc[:3], 100.0)) == 3          # three is enough


def test_values_that_are_not_counts_use_the_normal_p_value():
    units = _line(6)
    for y in (np.array([0.5, 1, 2, 3, 4, 9]), np.array([-1.0, 1, 2, 3, 4, 9])):
        r = gistar.gi_star(y, units, 100.0)
        assert r.attrs["null"] == "normal (values are not counts)"
        assert np.array_equal(r["p_value"].to_numpy(), r["p_norm"].to_numpy())
        assert np.array_equal(r["p_exact"].to_numpy(), r["p_norm"].to_numpy())
    r = gistar.gi_star(np.array([0.0, 1, 2, 3, 4, 9]), units, 100.0)          # counts: the exact null
    assert r.attrs["null"] == "without replacement"
    assert not np.allclose(r["p_value"], r["p_norm"])


def test_z_p_norm_and_columns_by_hand():
    # a line of four, values 0, 0, 0, 8: unit 3's neighbourhood {2, 3} holds S = 8; m = 2, mean 4,
    # variance 2 (4 - 2) / 3 * 12 = 16 (values' variance 12), z = (8 - 4) / 4 = 1
    units = _line(4)
    r = gistar.gi_star(np.array([0.0, 0.0, 0.0, 8.0]), units, 100.0, p_method="normal")
    assert r["neighbourhood_sum"].tolist() == [0.0, 0.0, 8.0, 8.0]
    assert r["neighbourhood_size"].tolist() == [2, 3, 3, 2]
    assert r["gi_z"].iat[3] == pytest.approx(1.0)
    assert r["gi_z"].iat[0] == pytest.approx(-1.0)
    assert r["p_value"].iat[3] == pytest.approx(2 * norm.sf(1.0))
    assert r["value"].tolist() == [0.0, 0.0, 0.0, 8.0]
    assert list(r.columns) == ["unit_id", "value", "neighbourhood_sum", "neighbourhood_size", "gi_z", "p_value",
                               "p_exact", "p_norm", "q_value", "significant", "category"]
    assert r.attrs["p_method"] == "normal" and r.attrs["null"] == "normal"
    flat = gistar.gi_star(np.full(4, 3.0), units, 100.0)                       # no variance: z = 0, p = 1
    assert (flat["gi_z"] == 0).all() and (flat["p_norm"] == 1).all()
    assert (flat["category"] == "Not significant").all()


def test_significance_at_alpha_and_the_reported_threshold():
    units = _line(6)
    y = np.array([0.0, 0.0, 1.0, 2.0, 30.0, 40.0])
    r = gistar.gi_star(y, units, 100.0, p_method="normal")
    q = gistar.bh_adjust(r["p_norm"].to_numpy())
    assert r["q_value"].to_numpy() == pytest.approx(q)
    for alpha in sorted(set(q)):                                   # alpha exactly on a q-value: that unit counts
        a = gistar.gi_star(y, units, 100.0, p_method="normal", alpha=float(alpha))
        assert a["significant"].tolist() == (q <= alpha).tolist()
        assert a.attrs["alpha"] == alpha
        assert a.attrs["fdr_threshold"] == pytest.approx(r["p_value"][q <= alpha].max())
    none = gistar.gi_star(y, units, 100.0, p_method="normal", alpha=float(q.min()) / 2)
    assert not none["significant"].any() and none.attrs["fdr_threshold"] == 0.0
    assert r.attrs["alpha"] == 0.05 and r.attrs["two_sided"] is True
    assert r.attrs["permutations"] == 0 and r.attrs["seed"] == 0 and "p_perm" not in r


def test_permutation_p_method_acts_on_p_perm():
    units = _line(8)
    y = np.array([0.0, 1, 0, 2, 9, 8, 0, 1])
    r = gistar.gi_star(y, units, 100.0, permutations=99, seed=5, p_method="permutation")
    assert np.array_equal(r["p_value"].to_numpy(), r["p_perm"].to_numpy())
    assert r["q_value"].to_numpy() == pytest.approx(gistar.bh_adjust(r["p_perm"].to_numpy()))
    assert r.attrs["null"] == "permutation" and r.attrs["permutations"] == 99 and r.attrs["seed"] == 5
    # the floor of a permutation p-value: 2 / (P + 1) at best, 1 at worst
    assert (r["p_perm"] >= 2 / 100 - 1e-12).all() and (r["p_perm"] <= 1).all()


def test_permutation_p_by_hand_for_lone_units():
    # units 1 km apart have no neighbours (m = 1): a random neighbourhood of size 1 is one of the n values, so
    # with many permutations P(S >= s) and P(S <= s) are the shares of values >= s and <= s
    units = _line(5, size=1000.0)
    y = np.array([0.0, 0.0, 0.0, 0.0, 5.0])
    r = gistar.gi_star(y, units, 100.0, permutations=20000, seed=3)
    assert r["neighbourhood_size"].tolist() == [1] * 5
    assert r["p_perm"].iat[4] == pytest.approx(2 * 0.2, abs=0.02)      # upper tail: 1 value of 5
    assert r["p_perm"].iat[0] == pytest.approx(1.0)                     # zeros: 2 x 0.8, capped
    assert r["p_exact"].iat[4] == pytest.approx(0.4)


def test_hot_spots_uses_the_last_periods():
    units = _line(5).assign(force_code="13", latitude=53.8, longitude=-1.5, area_km2=0.01, label="")
    counts = np.array([[9, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 0], [0, 2, 3]], dtype=float)
    unit = cells.parse_unit("grid:100")
    cm = CountMatrix(unit=unit, period="week", units=units,
                     periods=pd.date_range("2026-01-05", periods=3, freq="W-MON"), counts=counts)
    assert cm.unit.spacing_m == 100
    allp = gistar.hot_spots(cm)
    assert allp["value"].tolist() == [9.0, 1.0, 1.0, 0.0, 5.0]
    last2 = gistar.hot_spots(cm, periods=2)
    assert last2["value"].tolist() == [0.0, 1.0, 1.0, 0.0, 5.0]
    assert last2["force_code"].tolist() == ["13"] * 5                  # the units' columns kept
    assert last2.attrs["p_method"] == "exact" and last2.attrs["alpha"] == 0.05
    assert gistar.hot_spots(cm, periods=1, alpha=0.2).attrs["alpha"] == 0.2


def test_permutation_p_values_lie_on_their_grid():
    # p_perm = min(1, 2 (1 + k) / (P + 1)) for a whole number k of permutations: 1000 lone units, one with 10
    # crimes; whatever the draws, p_perm (P + 1) / 2 - 1 is a whole number in 0..P, and the busy unit's k is
    # the few draws that picked it
    units = _line(1000, size=1000.0)
    y = np.zeros(1000)
    y[7] = 10.0
    P = 99
    r = gistar.gi_star(y, units, 100.0, permutations=P, seed=11)
    k = r["p_perm"].to_numpy() * (P + 1) / 2 - 1
    capped = r["p_perm"].to_numpy() == 1.0
    assert np.allclose(k[~capped], np.round(k[~capped])) and (k[~capped] >= -1e-9).all()
    assert 0 <= round(k[7]) <= 5 and capped[:7].all()


def test_exact_p_honours_its_budget():
    y = np.array([0.0, 3, 0, 1, 9, 0, 2, 0])
    m = np.array([3, 3, 3, 3, 3, 3, 3, 3])
    S = np.array([3.0, 4, 10, 10, 12, 11, 2, 2])
    p_exact, how = gistar.exact_p(y, S, m)
    assert how == "without replacement"
    p_fft, how = gistar.exact_p(y, S, m, budget=0)
    assert how == "with replacement (FFT)"
    sums = np.array([sum(c) for c in itertools.product(y.tolist(), repeat=3)])   # with replacement, by hand
    want = [min(1.0, 2 * min((sums >= s).mean(), (sums <= s).mean())) for s in S]
    assert p_fft == pytest.approx(want, abs=1e-9)
    assert not np.allclose(p_fft, p_exact)


def test_hot_spots_passes_the_unit_kind_on():
    # LSOAs: weights by the 6 nearest, not a distance band (here every centre is 1 km from the next: a
    # 1.5 x 700 m band would give two neighbours)
    n = 12
    units = _line(n, size=1000.0).assign(force_code="13", latitude=53.8, longitude=-1.5, area_km2=1.0, label="")
    cm = CountMatrix(unit=cells.Unit("lsoa"), period="week", units=units,
                     periods=pd.date_range("2026-01-05", periods=2, freq="W-MON"),
                     counts=np.arange(2 * n, dtype=float).reshape(n, 2))
    r = gistar.hot_spots(cm)
    assert (r["neighbourhood_size"] == 7).all()


def test_gi_star_passes_threshold_kind_and_weights_on():
    units = _line(8)
    y = np.array([0.0, 1, 0, 2, 9, 8, 0, 1])
    assert gistar.gi_star(y, units, 100.0, threshold_m=250.0)["neighbourhood_size"].tolist() == [3, 4, 5, 5, 5, 5,
                                                                                                 4, 3]
    assert (gistar.gi_star(y, units, 100.0, kind="lsoa")["neighbourhood_size"] == 7).all()     # 6 nearest + itself
    w = gistar.weights(units, 100.0, "grid", threshold_m=350.0)                              # given weights win
    assert gistar.gi_star(y, units, 100.0, w=w)["neighbourhood_size"].tolist() == [4, 5, 6, 7, 7, 6, 5, 4]


def test_z_with_a_standard_deviation_below_one():
    # 0, 0, 0, 1 on a line: values' variance 3/16; unit 3's neighbourhood {2, 3}: m = 2, S = 1, mean 0.5,
    # variance 2 (4 - 2) / 3 * 3/16 = 1/4, sd 0.5 -> z = 1
    r = gistar.gi_star(np.array([0.0, 0.0, 0.0, 1.0]), _line(4), 100.0)
    assert r["gi_z"].iat[3] == pytest.approx(1.0)
    assert r["gi_z"].iat[0] == pytest.approx(-1.0)


def test_fft_null_has_exactly_the_support_and_no_wrap_around():
    # values 0, 1, 4 drawn twice with replacement: sums 0..8, P(8) = 1/9; a transform too short by one
    # would fold the 8 onto 0
    pmfs, how = gistar.null_pmfs(np.array([0, 1, 4]), [2], budget=0)
    assert how == "with replacement (FFT)"
    sums = [a + b for a in (0, 1, 4) for b in (0, 1, 4)]
    brute = np.bincount(sums, minlength=9) / 9
    assert len(pmfs[2]) == 9
    assert pmfs[2] == pytest.approx(brute, abs=1e-12)
    pmfs, _ = gistar.null_pmfs(np.array([0, 0, 1, 3, 0, 2, 7, 5, 5, 1]), [1, 2, 3], budget=0)
    assert all(len(pmfs[m]) == 7 * m + 1 and (pmfs[m] >= 0).all() for m in (1, 2, 3))


def test_exact_moments_of_two_values():
    # n = 2, m = 1: one of two values, variance s2 = ((3 - 1.5)^2 + (0 - 1.5)^2) / 2 = 2.25 (n - 1 = 1)
    mean, var = gistar.exact_moments(np.array([3.0, 0.0]), np.array([1]))
    assert mean.tolist() == [1.5] and var.tolist() == [2.25]


def test_exact_path_within_its_budget_of_element_operations():
    # values 0, 1, 1, 3 and m = 2: 3 distinct values x (M + 1) M / 2 x L (L = 3 + 1 + 1 = the largest sum + 1)
    # = 3 x 3 x 5 = 45 element operations
    y = np.array([0, 1, 1, 3])
    assert gistar.null_pmfs(y, [2], budget=45)[1] == "without replacement"
    assert gistar.null_pmfs(y, [2], budget=44.99)[1] == "with replacement (FFT)"
    pmf = gistar.null_pmfs(y, [2], budget=45)[0][2]
    assert len(pmf) == 5 and pmf == pytest.approx([0, 2 / 6, 1 / 6, 1 / 6, 2 / 6])      # pairs of 0, 1, 1, 3


def test_exact_path_while_the_number_of_subsets_fits_a_float():
    # the exact recursion divides by C(n, m): kept below 1e280. n = 957 with C(957, 394) = 10^279.99 exact,
    # C(957, 395) = 10^280.14 by FFT (the binomials computed here exactly)
    import math

    assert 279.9 < math.log10(math.comb(957, 394)) < 280 < math.log10(math.comb(957, 395)) < 280.2
    y = np.zeros(957, dtype=np.int64)
    y[:100] = 1
    assert gistar.null_pmfs(y, [394])[1] == "without replacement"
    assert gistar.null_pmfs(y, [395])[1] == "with replacement (FFT)"


def test_exact_p_at_the_ends_of_the_null():
    # S = 0: the two-sided p is 2 P(S = 0). Eight units on a line, 0, 0 then six 1s: unit 0's neighbourhood
    # {0, 1} sums to 0; P(two of eight values are both 0) = 1 / 28
    r = gistar.gi_star(np.array([0.0, 0, 1, 1, 1, 1, 1, 1]), _line(8), 100.0)
    assert r["neighbourhood_sum"].iat[0] == 0 and r["p_value"].iat[0] == pytest.approx(2 / 28)
    # S = the largest possible sum of the largest neighbourhood: 0, 0, 0, 0, 1, 4, 5: unit 5's {4, 5, 6} = 10;
    # only one of the C(7, 3) = 35 triples reaches 10
    r = gistar.gi_star(np.array([0.0, 0, 0, 0, 1, 4, 5]), _line(7), 100.0)
    assert r["neighbourhood_sum"].iat[5] == 10 and r["p_value"].iat[5] == pytest.approx(2 / 35)
