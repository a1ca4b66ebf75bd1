"""Knox near-repeat test pinned against a brute force written from the definition (not from the module).

Definition (docs/hotspots.md): every unordered pair of events; distance = straight line; time = whole
seconds; bands (lo, hi] with the first closed [0 or lo, hi]; pairs beyond the last edge are not counted;
expected = mean over the permutations of the counts; p = (1 + #permutations with count >= observed) /
(iterations + 1). Fixtures put pairs exactly on every spatial and every temporal edge, on each counting
path: the pair list ("pairs"), shared locations ("grouped") and the grid sweep ("sweep").
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from workbench.hotspots import knox
from workbench.hotspots.events import HotspotError

SPACE = (0, 100, 200, 400, 800, 1600)
TIME = (0, 7, 14, 28, 56)


def _band(value: float, edges) -> int | None:
    """(lo, hi] bands, the first closed at its lower edge; None outside the edges."""
    if value < edges[0] or value > edges[-1]:
        return None
    for k in range(1, len(edges)):
        if value <= edges[k]:
            return k - 1
    return None


def _brute(xy, days, space=SPACE, time=TIME) -> list[int]:
    seconds = [int(np.round(d * 86400.0)) for d in days]
    t_edges = [e * 86400 for e in time]
    table = [0] * ((len(space) - 1) * (len(time) - 1))
    for i in range(len(xy)):
        for j in range(i + 1, len(xy)):
            sb = _band(math.hypot(xy[i][0] - xy[j][0], xy[i][1] - xy[j][1]), space)
            tb = _band(abs(seconds[i] - seconds[j]), t_edges)
            if sb is not None and tb is not None:
                table[sb * (len(time) - 1) + tb] += 1
    return table


def _edge_fixture_scattered():
    """Pairs exactly on every spatial edge (3-4-5 triangles: not only along an axis) with time differences
    exactly on every time edge, pairs just beyond the last edges, and background points; no shared location."""
    xy, days = [], []
    origin = 0.0
    for k, d in enumerate(SPACE):
        for t in TIME:
            for dx, dy in ((d, 0.0), (0.6 * d, 0.8 * d)):
                xy += [(origin, 0.0), (origin + dx, dy)]
                days += [100.0, 100.0 + t]
                origin += 10_000.0                      # each pair far from every other point
    xy += [(origin, 0.0), (origin + 1600.5, 0.0), (origin + 50_000, 0.0), (origin + 50_000, 10.0)]
    days += [0.0, 1.0, 0.0, 56.5]                        # beyond the last distance / beyond the last time
    rng = np.random.default_rng(8)
    cloud = rng.uniform(0, 3000, (250, 2)) + [origin + 100_000, 0]
    xy += [tuple(p) for p in cloud]
    days += list(rng.integers(0, 120, 250).astype(float))   # whole days: many differences on a time edge
    return np.array(xy, dtype=float), np.array(days, dtype=float)


def _edge_fixture_shared():
    """60 events at each of six locations on a line at 0, 100, 200, 400, 800 and 1600 m: distances between
    locations 100, 200, 300, 400, 600, 700, 800, 1200, 1400, 1500 and 1600 m (on edges and between), and
    co-located pairs (0 m); times in whole days, so many pairs are exactly 7, 14, 28 or 56 days apart."""
    rng = np.random.default_rng(4)
    locs = np.array([[0, 0], [100, 0], [200, 0], [400, 0], [800, 0], [1600, 0]], dtype=float)
    xy = np.repeat(locs, 60, axis=0)
    days = rng.integers(0, 120, len(xy)).astype(float)
    return xy, days


def test_brute_force_reference_itself():
    # the reference on a hand-checked case: A-B exactly 100 m and 7 days (first bands, closed at hi);
    # A-C 100.5 m, 7.5 days (second bands); B-C 0.5 days, 141.8 m; D 5 km away (never counted)
    xy = [(0, 0), (100, 0), (0, 100.5), (5000, 0)]
    days = [0, 7, 7.5, 3]
    table = _brute(xy, days, (0, 100, 2000), (0, 7, 60))
    assert table == [1, 0, 1, 1]


@pytest.mark.parametrize("fixture, engine, strategy", [
    (_edge_fixture_scattered, "pairs", "pairs"),
    (_edge_fixture_scattered, "sweep", "sweep"),
    (_edge_fixture_shared, "pairs", "grouped"),
    (_edge_fixture_shared, "sweep", "sweep"),
])
def test_observed_counts_equal_brute_force_with_pairs_on_every_edge(fixture, engine, strategy):
    xy, days = fixture()
    r = knox.knox(xy=xy, days=days, space_edges=SPACE, time_edges=TIME, iterations=1, engine=engine)
    assert r.attrs["strategy"] == strategy
    assert list(r["observed"]) == _brute(xy.tolist(), days.tolist())


def test_edge_fixture_really_sits_on_every_edge():
    # guards the fixtures: every spatial and every temporal edge is hit exactly by some counted pair
    for fixture in (_edge_fixture_scattered, _edge_fixture_shared):
        xy, days = fixture()
        d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
        dt = np.abs(days[:, None] - days[None, :])
        close = (d <= SPACE[-1]) & (dt <= TIME[-1])
        for e in SPACE[1:]:
            assert (close & (d == e)).any(), e
        for e in TIME[1:]:
            assert (close & (dt == e)).any(), e


def _permutation_counts(xy, days, iterations, seed):
    """The permutations the module draws (documented: SeedSequence(seed) spawned per job, one
    default_rng per job, rng.permutation(n) per iteration), counted by the brute force."""
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
    return np.array([_brute(xy, days[rng.permutation(len(days))], (0, 100, 2000), (0, 7, 60))
                     for _ in range(iterations)])


@pytest.mark.parametrize("engine", ["pairs", "sweep"])
def test_expected_ratio_and_p_values_exact_for_a_fixture(engine):
    # five events: a near-repeat pair (A, B), a third event near them later, and two far away
    xy = np.array([[0, 0], [40, 0], [80, 30], [1500, 0], [1550, 20]], dtype=float)
    days = np.array([0.0, 2.0, 30.0, 3.0, 50.0])
    iterations = 60
    r = knox.knox(xy=xy, days=days, space_edges=(0, 100, 2000), time_edges=(0, 7, 60), iterations=iterations,
                  seed=11, engine=engine)
    observed = np.array(_brute(xy.tolist(), days.tolist(), (0, 100, 2000), (0, 7, 60)))
    sims = _permutation_counts(xy.tolist(), days, iterations, 11)
    assert list(r["observed"]) == list(observed)
    assert list(r["expected"]) == pytest.approx(list(sims.mean(axis=0)), abs=1e-12)
    p = (1 + (sims >= observed).sum(axis=0)) / (iterations + 1)        # the +1 correction
    assert list(r["p_value"]) == pytest.approx(list(p), abs=1e-12)
    assert (p < 1).any() and (p > 1 / (iterations + 1)).any()         # the fixture is not degenerate
    ratio = observed / sims.mean(axis=0)
    assert list(r["ratio"]) == pytest.approx(list(ratio), abs=1e-12)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_engines_give_identical_tables_for_the_same_permutations(n_jobs):
    rng = np.random.default_rng(5)
    xy = rng.uniform(0, 4000, (400, 2))
    days = rng.uniform(0, 300, 400)
    a = knox.knox(xy=xy, days=days, iterations=25, seed=3, n_jobs=n_jobs, engine="pairs")
    b = knox.knox(xy=xy, days=days, iterations=25, seed=3, n_jobs=n_jobs, engine="sweep")
    assert a["observed"].sum() > 0
    assert a.equals(b)
    assert a.attrs["pairs"] == b.attrs["pairs"]


def test_auto_engine_choice():
    rng = np.random.default_rng(6)
    scattered = rng.uniform(0, 3000, (300, 2))
    shared = rng.uniform(0, 3000, (10, 2))[rng.integers(0, 10, 300)]
    days = rng.uniform(0, 100, 300)
    expect = "sweep" if knox._numba_available() else "pairs"
    assert knox.knox(xy=scattered, days=days, iterations=1).attrs["strategy"] == expect
    assert knox.knox(xy=shared, days=days, iterations=1).attrs["strategy"] == "grouped"
    with pytest.raises(HotspotError, match="engine"):
        knox.knox(xy=scattered, days=days, iterations=1, engine="fast")


def test_plain_python_kernel_matches_compiled(monkeypatch):
    # without numba the sweep runs the same kernel as plain Python
    xy, days = _edge_fixture_scattered()
    compiled = knox.knox(xy=xy, days=days, space_edges=SPACE, time_edges=TIME, iterations=3, engine="sweep")
    monkeypatch.setattr(knox, "_COMPILED", knox._sweep_kernel)
    plain = knox.knox(xy=xy, days=days, space_edges=SPACE, time_edges=TIME, iterations=3, engine="sweep")
    assert compiled.equals(plain)


def test_first_band_starting_above_zero_excludes_closer_pairs():
    # space bands from 50 m: co-located pairs and pairs under 50 m are not counted; exactly 50 m is
    xy = np.array([[0, 0], [0, 0], [30, 0], [50, 0], [5000, 0], [5000, 80]], dtype=float)
    days = np.array([0, 1, 2, 3, 0, 1], dtype=float)
    want = _brute(xy.tolist(), days.tolist(), (50, 100), (0, 7))
    for engine in ("pairs", "sweep"):
        r = knox.knox(xy=xy, days=days, space_edges=(50, 100), time_edges=(0, 7), iterations=1, engine=engine)
        assert list(r["observed"]) == want == [3]     # A-D, B-D (50 m), E-F (80 m)


hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings, strategies as st  # noqa: E402


@st.composite
def _events(draw):
    n = draw(st.integers(2, 40))
    # coordinates on a 50 m lattice and whole days, so pairs often sit exactly on a band edge
    pts = draw(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40), st.integers(0, 60)),
                        min_size=n, max_size=n))
    order = draw(st.permutations(range(n)))
    return np.array([(50.0 * a, 50.0 * b) for a, b, _ in pts]), np.array([float(t) for *_, t in pts]), \
        np.array(order)


@settings(max_examples=40, deadline=None)
@given(_events())
def test_counts_invariant_to_event_order(ev):
    xy, days, order = ev
    want = _brute(xy.tolist(), days.tolist())
    for engine in ("pairs", "sweep"):
        a = knox.knox(xy=xy, days=days, iterations=1, engine=engine)
        b = knox.knox(xy=xy[order], days=days[order], iterations=1, engine=engine)
        assert list(a["observed"]) == list(b["observed"]) == want
