"""Getis-Ord Gi*: exact z and p-values, two-sided confidence bins, false positives on noise, seed stability."""
from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from workbench.hotspots import counts, gistar, policeuk
from workbench.hotspots.events import HotspotError


def _grid(nx: int, ny: int | None = None, size: int = 100) -> tuple[pd.DataFrame, np.ndarray]:
    ny = ny or nx
    ij = np.array([(i, j) for i in range(nx) for j in range(ny)])
    units = pd.DataFrame({"unit_id": [f"{i}_{j}" for i, j in ij], "x": (ij[:, 0] + 0.5) * size,
                          "y": (ij[:, 1] + 0.5) * size})
    return units, ij


def _block(ij, i0, j0, k=3):
    return (ij[:, 0] >= i0) & (ij[:, 0] < i0 + k) & (ij[:, 1] >= j0) & (ij[:, 1] < j0 + k)


def test_z_is_esdas_analytical_gi_star():
    import esda

    units, _ = _grid(12)
    y = np.random.default_rng(3).negative_binomial(1, 0.3, len(units)).astype(float)
    r = gistar.gi_star(y, units, 100.0, "grid")
    w = gistar.weights(units, 100.0, "grid")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = esda.G_Local(y, w, transform="B", permutations=0, star=True)
    assert r["gi_z"].to_numpy() == pytest.approx(np.asarray(g.Zs), abs=1e-9)
    assert r["p_norm"].to_numpy() == pytest.approx(2 * norm.sf(np.abs(np.asarray(g.Zs))), rel=1e-9)


def test_exact_p_values_equal_brute_force_enumeration():
    # 3 x 4 grid: every neighbourhood (the unit and the units within 150 m: up to 9) is compared with
    # ALL C(12, m) subsets of the 12 values, written here without the module's helpers.
    units, ij = _grid(3, 4)
    y = np.array([0, 3, 0, 1, 9, 0, 2, 0, 0, 4, 1, 0], dtype=float)
    r = gistar.gi_star(y, units, 100.0, "grid")
    xy = units[["x", "y"]].to_numpy()
    for i in range(len(y)):
        near = np.hypot(*(xy - xy[i]).T) <= 150
        obs, m = y[near].sum(), int(near.sum())
        sums = np.array([sum(c) for c in itertools.combinations(y.tolist(), m)])
        upper, lower = (sums >= obs).mean(), (sums <= obs).mean()
        assert r["neighbourhood_size"].iat[i] == m
        assert r["p_value"].iat[i] == pytest.approx(min(1.0, 2 * min(upper, lower)), rel=1e-9), i
    assert r.attrs["null"] == "without replacement" and r.attrs["two_sided"]


def test_null_distribution_with_replacement_fallback_matches_enumeration():
    values = np.array([0, 0, 1, 3, 0, 2, 7], dtype=np.int64)
    pmfs, how = gistar.null_pmfs(values, [3], budget=0)          # force the FFT path
    assert how.startswith("with replacement")
    sums = [sum(c) for c in itertools.product(values.tolist(), repeat=3)]
    brute = np.bincount(sums) / len(sums)
    assert pmfs[3][:len(brute)] == pytest.approx(brute, abs=1e-12)


def test_noise_gives_the_nominal_false_positive_rate():
    # Poisson noise on 40 x 40 cells, four replicates: the two-sided p <= 0.05 share is close to 5% (a
    # little under: the exact test of a discrete sum is conservative), split between hot and cold, and
    # after FDR next to nothing is left.
    units, _ = _grid(40)
    w = gistar.weights(units, 100.0, "grid")
    raw, hot, cold, kept = [], [], [], []
    for s in range(4):
        y = np.random.default_rng(200 + s).poisson(4.0, len(units)).astype(float)
        r = gistar.gi_star(y, units, 100.0, "grid", w=w)
        small = r["p_value"] <= 0.05
        raw.append(small.mean())
        hot.append((small & (r["gi_z"] > 0)).mean())
        cold.append((small & (r["gi_z"] < 0)).mean())
        kept.append(int(r["significant"].sum()))
    assert 0.03 <= np.mean(raw) <= 0.06
    assert 0.01 <= np.mean(hot) <= 0.035 and 0.01 <= np.mean(cold) <= 0.035
    assert max(kept) <= 3


def test_every_confidence_category_from_one_fixture():
    # 30 x 30 cells of Poisson(6) background; three raised 3 x 3 blocks (+10, +5, +3.5) and three
    # lowered ones (x 0, x 0.3, x 0.45) give hot and cold spots at each confidence level.
    units, ij = _grid(30)
    y = np.random.default_rng(7).poisson(6, len(units)).astype(float)
    for (i0, j0), add in (((3, 3), 10), ((3, 12), 5), ((3, 21), 3.5)):
        y[_block(ij, i0, j0)] += add
    for (i0, j0), keep in (((15, 3), 0.0), ((15, 12), 0.3), ((15, 21), 0.45)):
        b = _block(ij, i0, j0)
        y[b] = np.round(y[b] * keep)
    r = gistar.gi_star(y, units, 100.0, "grid")
    assert set(r["category"]) == {f"{side} spot {level}" for side in ("Hot", "Cold") for level in ("99%", "95%", "90%")
                                  } | {"Not significant"}
    # the bins are ArcGIS's two-sided confidence levels read on the BH-adjusted p-values
    q = r["q_value"].to_numpy()
    expected = np.where(q <= 0.01, "99%", np.where(q <= 0.05, "95%", np.where(q <= 0.10, "90%", "")))
    side = np.where(r["gi_z"] > 0, "Hot", "Cold")
    want = [f"{s} spot {lv}" if lv else "Not significant" for s, lv in zip(side, expected)]
    assert list(r["category"]) == want
    assert r.loc[_block(ij, 3, 3), "category"].str.startswith("Hot spot").all()
    assert r.set_index("unit_id").loc["4_4", "category"] == "Hot spot 99%"      # the strongest block's centre
    assert r.set_index("unit_id").loc["16_4", "category"] == "Cold spot 99%"


def test_permutation_p_two_sided_with_ties():
    # 70% zeros: a unit whose whole neighbourhood is zero is in the LOWER tail with probability
    # P(S = 0), large, so it is far from significant (a one-sided count of "as large or larger" gave
    # such units p ~ 1 / (P + 1) in esda's folded default).
    units, ij = _grid(10)
    rng = np.random.default_rng(5)
    y = np.where(rng.random(len(units)) < 0.7, 0.0, rng.poisson(3, len(units)) + 1.0)
    y[_block(ij, 0, 0)] = 0
    r = gistar.gi_star(y, units, 100.0, "grid", permutations=999, seed=1)
    corner = r["unit_id"] == "0_0"
    assert r.loc[corner, "neighbourhood_sum"].iat[0] == 0
    assert r.loc[corner, "p_perm"].iat[0] > 0.1 and r.loc[corner, "p_value"].iat[0] > 0.1
    # p_perm against the exact p: within Monte Carlo error everywhere
    big = gistar.gi_star(y, units, 100.0, "grid", permutations=20000, seed=2)
    se = np.sqrt(big["p_value"] * (1 - big["p_value"]) * 2 / 20000) + 2 / 20001
    assert (np.abs(big["p_perm"] - big["p_value"]) <= 5 * se + 1e-9).all()
    with pytest.raises(HotspotError, match="permutation"):
        gistar.gi_star(y, units, 100.0, "grid", p_method="permutation")


@pytest.fixture(scope="module")
def west_yorkshire():
    return policeuk.read_street_csvs()


def test_skewed_real_counts_exact_not_normal(west_yorkshire):
    # police.uk snap points: one h3:8 cell holds a tenth of the crime. The normal tail calls its
    # neighbourhood astronomically unlikely; the exact null (agreeing with 20,000 permutations) does not.
    cm = counts.count_matrix(west_yorkshire, "h3:8", "month", periods="observed")
    r = gistar.hot_spots(cm, permutations=20000, seed=4)
    top = r.sort_values("p_value").iloc[0]
    assert top["p_norm"] < 1e-30 < 1e-7 < top["p_value"]
    assert top["p_perm"] == pytest.approx(top["p_value"], rel=0.5, abs=3 / 20001)
    assert int(r["significant"].sum()) < int((gistar.bh_adjust(r["p_norm"].to_numpy()) <= 0.05).sum())


@pytest.mark.parametrize("unit", ["h3:7", "h3:8"])
def test_fdr_hot_spot_count_is_stable_across_seeds(west_yorkshire, unit):
    # the map's defaults (199 permutations, FDR 5%) on the shipped real data, 20 seeds: the count of
    # FDR hot spots varies by at most 10% (it does not vary at all: the default p-value is exact);
    # before this change it ranged from 16 to 172 at h3:8.
    cm = counts.count_matrix(west_yorkshire, unit, "month", periods="observed")
    w = gistar.weights(cm.units, cm.unit.spacing_m, cm.unit.kind)
    y = cm.counts.sum(axis=1)
    runs = [gistar.gi_star(y, cm.units, cm.unit.spacing_m, cm.unit.kind, permutations=199, seed=s, w=w)
            for s in range(20)]
    hot = [int((r["significant"] & (r["gi_z"] > 0)).sum()) for r in runs]
    assert min(hot) > 0
    assert (max(hot) - min(hot)) <= 0.10 * np.median(hot)
    assert all(np.array_equal(runs[0]["p_value"], r["p_value"]) for r in runs)
    assert not np.array_equal(runs[0]["p_perm"], runs[1]["p_perm"])       # the seed does reach the permutations
    same = gistar.gi_star(y, cm.units, cm.unit.spacing_m, cm.unit.kind, permutations=199, seed=3, w=w)
    assert np.array_equal(same["p_perm"], runs[3]["p_perm"])


def test_hotspots_map_cli_seed_p_method_and_until(tmp_path, capsys):
    import json

    from workbench.cli import main
    from workbench.store import open_store

    def run(*extra):
        n = len(list(tmp_path.glob("*.duckdb")))
        db = tmp_path / f"w{n}.duckdb"            # a store per run (each run's audit row is read back)
        open_store(db).close()
        code = main(["hotspots", "map", "--source", "police-uk", "--unit", "h3:8", "--no-png", "--db", str(db),
                     "--json", "--out", str(tmp_path / f"m{n}.html"), *extra])
        out = capsys.readouterr()
        details = None
        if code == 0:
            with open_store(db, read_only=True) as store:
                (row,) = store.con.execute("SELECT details FROM audit_log WHERE action = 'hotspots-map'").fetchall()
            details = json.loads(row[0])
        return code, out.out, out.err, details

    counts_by, details = {}, {}
    for args in ((), ("--seed", "7"), ("--p-method", "normal"), ("--until", "2018-07-01")):
        code, out, err, details[args] = run(*args)
        assert code == 0, err
        counts_by[args] = json.loads(out)["hot_cells"]
    assert counts_by[()] == counts_by[("--seed", "7")] > 0                  # exact p: the seed changes nothing
    assert counts_by[("--p-method", "normal")] > counts_by[()]              # the normal tail over-calls
    ev = policeuk.read_street_csvs()
    before = int((ev["occurred_at"] < "2018-07-01").sum())
    assert 0 < before < len(ev) and f"{before:,} incidents" in (tmp_path / "m3.html").read_text()   # July 2018 left out
    assert details[()]["seed"] == 0 and details[("--seed", "7")]["seed"] == 7
    assert details[("--p-method", "normal")]["p_method"] == "normal" and details[()]["p_method"] == "exact"
    assert details[("--until", "2018-07-01")]["until"] == "2018-07-01"
    code, _, err, _ = run("--until", "2018-07-15")
    assert code == 2 and "first day of a month" in err
    code, _, err, _ = run("--p-method", "z_sim")
    assert code == 2 and "unknown --p-method" in err
