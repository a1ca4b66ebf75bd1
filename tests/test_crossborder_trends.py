"""Tactic trends (workbench.crossborder.trends): first seen, spread across forces by month, and the national trend
test (Mann-Kendall, Sen slope, Benjamini-Hochberg), from hand-made frames with planted trends and from the SQL on
a small hand-filled store."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.crossborder import crossborder_settings
from workbench.crossborder.trends import (benjamini_hochberg, spread_from_frames, tactic_trends, trend_settings,
                                          trends_from_frames)
from workbench.errors import WorkbenchError

MONTHS = pd.date_range("2025-01-01", periods=24, freq="MS")
FORCES = [f"{n:02d}" for n in (1, 3, 4, 5, 6, 7, 10, 11, 12, 13)]


def _world(seed: int = 5, growing_total: bool = True):
    """Monthly frames: RISE grows from 2% to 12% of incidents and spreads one force at a time; FLAT stays at 9-11%
    of incidents (so its count grows with the total); FALL drops from 12% to 2%; RARE appears in 3 months only."""
    rng = np.random.default_rng(seed)
    totals = np.linspace(1000, 2000, len(MONTHS)).round() if growing_total else np.full(len(MONTHS), 1500.0)
    rows = []
    for k, (month, total) in enumerate(zip(MONTHS, totals)):
        shares = {"RISE": 0.02 + 0.10 * k / 23, "FLAT": 0.10 + 0.01 * (-1) ** k, "FALL": 0.12 - 0.10 * k / 23}
        for code, share in shares.items():
            # FLAT without Poisson noise (9% and 11% in turn), so "not a trend" is not left to chance
            n = int(round(total * share)) if code == "FLAT" else int(rng.poisson(total * share))
            # RISE is used in the first k//2 + 1 forces (one new force every other month); the others everywhere
            forces = FORCES[: k // 2 + 1] if code == "RISE" else FORCES
            split = rng.multinomial(n, np.full(len(forces), 1 / len(forces)))
            for force, m in zip(forces, split):
                if m:
                    rows.append((code, force, f"Force {force}", month.date(), int(m), month + pd.Timedelta(hours=10)))
        if k in (3, 4, 20):
            rows.append(("RARE", "01", "Force 01", month.date(), 1, month + pd.Timedelta(days=2)))
    monthly = pd.DataFrame(rows, columns=["tactic_code", "force_code", "force_name", "month", "incidents", "first_at"])
    totals = pd.DataFrame({"month": [m.date() for m in MONTHS], "incidents": totals.astype(int)})
    first = monthly.sort_values("first_at").groupby("tactic_code", as_index=False).first()
    first_seen = pd.DataFrame({"tactic_code": first.tactic_code, "kind": "method", "name": first.tactic_code,
                               "first_at": first.first_at, "first_force_code": first.force_code,
                               "first_force_name": first.force_name})
    return first_seen, monthly, totals


def _settings(**trends):
    return crossborder_settings({"trends": trends} if trends else None)


def test_benjamini_hochberg_by_hand():
    q = benjamini_hochberg([0.01, 0.04, 0.03, 0.5, np.nan])
    assert np.allclose(q[:4], [0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.5]) and np.isnan(q[4])
    assert np.all(benjamini_hochberg([0.2, 0.2]) == 0.2)


def test_rising_and_falling_tactics_found_on_the_share_of_incidents():
    t = trends_from_frames(*_world(), _settings())
    table = t.trends.set_index("tactic_code")
    assert bool(table.loc["RISE", "rising"]) and table.loc["RISE", "trend"] == "rising"
    assert bool(table.loc["FALL", "falling"]) and table.loc["FALL", "trend"] == "falling"
    assert not table.loc["FLAT", "rising"] and not table.loc["FLAT", "falling"]
    # Sen slope of RISE: about 10 points over 23 months (share per month)
    assert table.loc["RISE", "sen_slope"] == pytest.approx(0.10 / 23, rel=0.25)
    assert table.loc["RISE", "sen_slope_per_year"] == pytest.approx(12 * table.loc["RISE", "sen_slope"])
    assert table.loc["RISE", "q_value"] <= 0.05 and table.loc["RISE", "q_value"] >= table.loc["RISE", "p_value"]
    assert t.trends.tactic_code.iloc[0] == "RISE"          # rising first
    assert "Benjamini-Hochberg" in t.method and "share" in t.method


def test_counts_rise_with_referrals_but_shares_do_not():
    """FLAT keeps 10% of a growing total: its count rises, its share does not; the measure decides."""
    by_count = trends_from_frames(*_world(), _settings(measure="count")).trends.set_index("tactic_code")
    by_share = trends_from_frames(*_world(), _settings(measure="share")).trends.set_index("tactic_code")
    assert bool(by_count.loc["FLAT", "rising"]) and not bool(by_share.loc["FLAT", "rising"])
    assert by_count.loc["FLAT", "measure"] == "count"


def test_fdr_correction_can_be_turned_off():
    on = trends_from_frames(*_world(), _settings()).trends.set_index("tactic_code")
    off = trends_from_frames(*_world(), _settings(fdr=False)).trends.set_index("tactic_code")
    assert (off.q_value == off.p_value).all()
    assert (on.q_value >= on.p_value - 1e-12).all() and (on.q_value > on.p_value).any()


def test_a_trend_significant_alone_is_not_rising_after_the_fdr_correction():
    """WEAK (p about 0.012 on its own) among four tactics with no trend: BH q = 5 x p > 0.05, so not rising,
    unless the correction is off."""
    from workbench.crossborder.trends import trend_table

    k = np.arange(24)
    series = {"WEAK": 0.10 + 0.02 * np.sin(k * 2.0) + 0.025 * k / 23,
              "N1": 0.05 + 0.01 * np.sin(k + 0.3), "N2": 0.05 + 0.01 * np.cos(k * 1.7),
              "N3": 0.05 + 0.01 * np.sin(k * 2.0 + 0.3), "N4": 0.05 + 0.01 * np.cos(k * 3.4)}
    spread = pd.DataFrame([(code, m, 10, x[j], 1) for code, x in series.items() for j, m in enumerate(MONTHS)],
                          columns=["tactic_code", "month", "incidents", "share", "forces_so_far"])
    first = pd.DataFrame({"tactic_code": list(series), "kind": "method", "name": list(series),
                          "first_force_code": "01", "first_force_name": "Met"})
    with_fdr = trend_table(spread, first, trend_settings(_settings())).set_index("tactic_code")
    without = trend_table(spread, first, trend_settings(_settings(fdr=False))).set_index("tactic_code")
    assert 0.005 < with_fdr.loc["WEAK", "p_value"] < 0.02 and with_fdr.loc["WEAK", "mk_trend"] == "increasing"
    assert with_fdr.loc["WEAK", "q_value"] == pytest.approx(5 * with_fdr.loc["WEAK", "p_value"])
    assert not with_fdr.rising.any() and (with_fdr.trend == "no trend").all()
    assert bool(without.loc["WEAK", "rising"]) and without.rising.sum() == 1


def test_spread_month_by_month_by_hand():
    _first, monthly, totals = _world()
    force_first, spread = spread_from_frames(monthly, totals)
    rise = spread[spread.tactic_code == "RISE"].reset_index(drop=True)
    assert len(rise) == 24 and rise.forces_so_far.is_monotonic_increasing
    # one new force every other month, FORCES in order (where RISE had incidents there)
    firsts = force_first[force_first.tactic_code == "RISE"].set_index("force_code").first_month
    for k, force in enumerate(FORCES):
        if force in firsts.index:
            assert firsts[force] <= MONTHS[2 * k]
    assert rise.new_forces.sum() == rise.forces_so_far.iloc[-1] == len(firsts)
    assert rise.forces_active.max() <= 10 and rise.forces_active.iloc[0] <= 1
    assert set(";".join(rise.new_force_codes).split(";")) - {""} == set(firsts.index)
    # share = tactic incidents / month's incidents
    month0 = rise.iloc[0]
    assert month0.share == pytest.approx(month0.incidents / totals.incidents.iloc[0], abs=1e-6)
    # months with no incident using a tactic count as zero (RARE: 3 of 24 months)
    rare = spread[spread.tactic_code == "RARE"]
    assert len(rare) == 24 and (rare.incidents > 0).sum() == 3 and rare.forces_so_far.iloc[-1] == 1


def test_first_seen_left_censored_and_too_few_months():
    first, monthly, totals = _world()
    t = trends_from_frames(first, monthly, totals, _settings())
    censored = t.first_seen.set_index("tactic_code").left_censored
    assert bool(censored["RISE"]) and not bool(censored["RARE"])    # RARE first seen in April, not in the first month
    short = monthly[pd.to_datetime(monthly.month) < MONTHS[4]]
    few = trends_from_frames(first, short, totals.head(4), _settings(min_months=6)).trends
    assert (few.trend == "too few months").all() and few.q_value.isna().all() and not few.rising.any()


@pytest.mark.parametrize("override, message", [({"alpha": 0}, "trends.alpha"), ({"alpha": "x"}, "trends.alpha"),
                                               ({"measure": "rate"}, "trends.measure"),
                                               ({"min_months": 2}, "trends.min_months")])
def test_settings_checked(override, message):
    with pytest.raises(WorkbenchError, match=message):
        trend_settings(_settings(**override))


def _fill(store):
    """Three stores in two forces; CONCEAL everywhere from January, RUSH first in force 13 in March then 20."""
    con = store.con
    con.execute("INSERT INTO retailers (retailer_id, name) VALUES ('BRM', 'Brightmart <script>x</script>')")
    con.execute("""INSERT INTO stores (store_id, retailer_id, store_ref, name, town, latitude, longitude, force_code)
                   VALUES ('S1', 'BRM', '1', 'Leeds <b>1</b>', 'Leeds', 53.8, -1.55, '13'),
                          ('S2', 'BRM', '2', 'Bradford', 'Bradford', 53.79, -1.75, '13'),
                          ('S3', 'BRM', '3', 'Dudley', 'Dudley', 52.51, -2.08, '20')""")
    con.execute("""INSERT INTO referrals (referral_id, source_name, source_type, received_at, is_current)
                   VALUES (1, 'test', 'retailer', TIMESTAMP '2026-01-01', true),
                          (2, 'test', 'retailer', TIMESTAMP '2026-01-01', false)""")
    incidents = [(1, "S1", "2025-01-05 10:00"), (2, "S2", "2025-02-05 11:00"), (3, "S1", "2025-03-07 12:00"),
                 (4, "S3", "2025-04-02 09:00"), (5, "S3", "2025-05-02 09:00"), (6, None, None)]
    for iid, store_id, when in incidents:
        con.execute("INSERT INTO incidents (incident_id, store_id, occurred_at, force_code) VALUES (?, ?, ?, '13')",
                    [iid, store_id, when])
    tactics = [(1, "CONCEAL", 1), (2, "CONCEAL", 1), (3, "CONCEAL", 1), (3, "RUSH", 1), (4, "RUSH", None),
               (5, "RUSH", 1), (5, "UNKNOWN", 1), (1, "RUSH", 2), (6, "SWEEP", 1)]
    for iid, code, ref in tactics:
        con.execute("INSERT INTO incident_tactics (incident_id, tactic_code, referral_id) VALUES (?, ?, ?)",
                    [iid, code, ref])


def test_queries_on_a_hand_filled_store(tmp_store):
    _fill(tmp_store)
    t = tactic_trends(tmp_store, _settings(min_months=3))
    first = t.first_seen.set_index("tactic_code")
    # RUSH on incident 1 came from a superseded referral: first seen at incident 3 (March, force 13)
    assert first.loc["RUSH", "first_incident_id"] == 3 and first.loc["RUSH", "first_force_code"] == "13"
    assert first.loc["RUSH", "first_store_name"] == "Leeds <b>1</b>" and first.loc["RUSH", "forces"] == 2
    assert first.loc["CONCEAL", "first_at"] == pd.Timestamp("2025-01-05 10:00") and first.loc["CONCEAL", "stores"] == 2
    assert "UNKNOWN" not in first.index and "SWEEP" not in first.index      # untimed incident left out
    ff = t.force_first.set_index(["tactic_code", "force_code"])
    assert ff.loc[("RUSH", "20"), "first_month"] == pd.Timestamp("2025-04-01")
    assert ff.loc[("RUSH", "20"), "incidents"] == 2 and ff.loc[("RUSH", "13"), "incidents"] == 1
    rush = t.spread[t.spread.tactic_code == "RUSH"].set_index("month")
    assert rush.forces_so_far.tolist() == [0, 0, 1, 2, 2]        # Jan..May: 13 in March, 20 in April
    assert rush.loc[pd.Timestamp("2025-04-01"), "new_force_codes"] == "20"
    assert rush.loc[pd.Timestamp("2025-03-01"), "share"] == 1.0   # 1 of the month's 1 incident
    assert set(t.trends.tactic_code) == {"CONCEAL", "RUSH"}


def test_empty_store_is_one_line(tmp_store):
    with pytest.raises(WorkbenchError, match="no incident with a time has a tactic code"):
        tactic_trends(tmp_store)


# -- against the sample world's truth (tests only) -----------------------------------------------------------
@pytest.fixture(scope="module")
def quick_world(tmp_path_factory):
    from benchmarks import bench_linkage

    root = tmp_path_factory.getbasetemp() / "bench_linkage_quick"
    return bench_linkage.build(root / "linkage_quick", bench_linkage.QUICK_SCALE)


def test_rising_tactics_are_the_worlds_planted_ones(quick_world):
    """Every third group of the sample world escalates (violence 3% -> 38% over the window): in the quick world
    VIOL and THREAT grow as a share of all incidents. The store's trends (referred incidents only) must find the
    same rising set as the same test on every incident of the world's truth, and nothing else."""
    import pymannkendall as mk

    from workbench.store import open_store

    world, db = quick_world
    truth = pd.read_parquet(world / "ground_truth" / "incidents.parquet")
    month = pd.to_datetime(truth.occurred_at).dt.to_period("M")
    totals = truth.groupby(month).size()
    codes = sorted({c for t in truth.tactics for c in str(t).split(";") if c})
    p, slope = [], []
    for code in codes:
        has = truth.tactics.map(lambda t, c=code: c in str(t).split(";"))
        share = (truth[has].groupby(month[has]).size().reindex(totals.index, fill_value=0) / totals).to_numpy()
        test = mk.original_test(share)
        p.append(test.p)
        slope.append(test.slope)
    q = benjamini_hochberg(p)
    truly_rising = {c for c, qq, s in zip(codes, q, slope) if qq <= 0.05 and s > 0}
    assert truly_rising >= {"VIOL"}, truly_rising            # the planted escalation is visible in the truth
    with open_store(db, read_only=True) as store:
        found = tactic_trends(store)
    assert set(found.trends.tactic_code[found.trends.rising]) == truly_rising
    assert not found.trends.falling.any()
