"""workbench.hotspots.backtest, written against mutants of `make mutation` (docs/testing.md, "Mutation testing"):
the naive baseline always added, the refusals (spatial methods on areas without locations, too few periods),
evaluate on a period without crime, best_in_area's tie order and zero-area units, the summary's pooled
figures and attributes worked out by hand, and the accuracy sentence."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.test_hotspots_forecast import _line_matrix
from workbench.hotspots import backtest, cells
from workbench.hotspots.counts import CountMatrix
from workbench.hotspots.events import HotspotError


def test_naive_is_always_added_first_and_methods_keep_their_order():
    cm = _line_matrix([[3, 0, 2, 1], [0, 2, 0, 0], [1, 1, 1, 4]])
    summary, detail = backtest.backtest(cm, methods=("average",), coverages=(0.34, 0.67), origins=2)
    assert list(summary["method"]) == ["naive", "naive", "average", "average"]
    assert list(summary["coverage"]) == [0.34, 0.67, 0.34, 0.67]
    assert list(detail["method"].unique()) == ["naive", "average"]
    assert len(detail) == 2 * 2 * 2                    # origins x methods x coverages
    s2, _ = backtest.backtest(cm, methods=("average", "naive"), coverages=(0.34,), origins=2)
    assert list(s2["method"]) == ["average", "naive"]   # naive given: not added twice


def test_summary_pools_origins_by_hand():
    # origins 2 and 3 (origins=2). naive at 1/3 of the area flags one unit:
    # origin 2: last week [0, 2, 1] -> unit 1 flagged; actual [2, 0, 1]: n = 0, N = 3, n* = 2
    # origin 3: last week [2, 0, 1] -> unit 0; actual [1, 0, 4]: n = 1, N = 5, n* = 4
    cm = _line_matrix([[3, 0, 2, 1], [0, 2, 0, 0], [1, 1, 1, 4]])
    summary, detail = backtest.backtest(cm, methods=("naive",), coverages=(0.34,), origins=2, seed=0)
    row = summary.iloc[0]
    assert (row["n"], row["N"], row["n_star"], row["origins"]) == (1, 8, 6, 2)
    assert row["hit_rate"] == pytest.approx(1 / 8)
    assert row["area_share"] == pytest.approx(1 / 3)
    assert row["pai"] == pytest.approx((1 / 8) / (1 / 3))
    assert row["pei_star"] == pytest.approx(1 / 6)
    assert list(detail["n_star"]) == [2, 4] and list(detail["cells_flagged"]) == [1, 1]
    a = summary.attrs
    assert a["unit"] == "grid:100" and a["period"] == "week" and a["units"] == 3 and a["seed"] == 0
    assert a["periods"] == "ISO weeks (Monday to Sunday)"
    assert a["area_km2"] == pytest.approx(0.0)       # 3 x 0.01 km2, rounded to one decimal
    assert a["first_origin"] == str(cm.periods[2].date()) and a["last_origin"] == str(cm.periods[3].date())
    assert a["origins"] == 2 and a["events"] == int(np.sum(cm.counts))
    assert backtest.backtest(cm, methods=("naive",), coverages=(0.34,), seed=7)[0].attrs["seed"] == 7


def test_the_default_origins_are_twelve():
    counts = np.ones((3, 20))
    cm = _line_matrix(counts.tolist())
    _, detail = backtest.backtest(cm, methods=("naive",), coverages=(0.34,))
    assert list(detail["origin"]) == list(cm.periods[8:20])


def test_refusals():
    cm = _line_matrix([[1, 0], [0, 0]])
    with pytest.raises(HotspotError, match=r"^the backtest needs at least two periods with crime \(one to learn "
                                           r"from, one to test\)$"):
        backtest.backtest(cm, methods=("naive",))
    with pytest.raises(HotspotError, match="at least two periods"):
        backtest.origin_columns(_line_matrix([[3], [1]]), 5)
    assert backtest.origin_columns(_line_matrix([[1, 0, 2], [0, 1, 0]]), 1) == [2]
    area = CountMatrix(unit=cells.Unit("area"), period="week", units=pd.DataFrame({
        "unit_id": ["A", "B"], "area_km2": [1.0, 1.0]}), periods=pd.date_range("2025-01-06", periods=3, freq="7D"),
        counts=np.array([[1, 2, 0], [0, 1, 3.0]]))
    with pytest.raises(HotspotError, match=r"^method\(s\) prospective, kde need unit locations; a count table of "
                                           r"areas the geography does not know supports only methods without "
                                           r"space \(e\.g\. naive, average\)$"):
        backtest.backtest(area)
    summary, _ = backtest.backtest(area, methods=("naive", "average"), coverages=(0.5,))
    assert list(summary["method"]) == ["naive", "average"] and summary.attrs["unit"] == "area"


def test_evaluate_a_period_without_crime_and_the_coverage_key():
    r = backtest.evaluate(np.array([3.0, 2, 1]), np.zeros(3), np.ones(3), 0.34)
    assert r["coverage"] == 0.34 and r["cells_flagged"] == 1 and r["N"] == 0 and r["n"] == 0
    assert np.isnan(r["hit_rate"]) and np.isnan(r["pai"]) and np.isnan(r["pei_star"])
    # ties without a key: the units' own order (a stable sort), exactly at a coverage edge: 2 of 4 equal units
    r = backtest.evaluate(np.zeros(4), np.array([1.0, 2, 3, 4]), np.ones(4), 0.5)
    assert r["cells_flagged"] == 2 and r["n"] == 3 and r["area_share"] == 0.5 and r["n_star"] == 7
    # a tie key (ascending) decides instead
    r = backtest.evaluate(np.zeros(4), np.array([1.0, 2, 3, 4]), np.ones(4), 0.5, tie_key=np.array([4, 3, 2, 1.0]))
    assert r["n"] == 7 and r["pei_star"] == 1


def test_best_in_area_by_hand():
    # equal density 2 for the 4-on-2 and the 2-on-1: more crimes first; area 2 -> the 4 alone, not 2 + nothing
    assert backtest.best_in_area(np.array([2.0, 4.0]), np.array([1.0, 2.0]), 2.0) == 4
    assert backtest.best_in_area(np.array([2.0, 4.0]), np.array([1.0, 2.0]), 3.0) == 6
    # a unit of zero area gets density 0 (never divided by), ranks after the 1-on-1, and costs no area:
    # 1 + 5; the unit without crime is never taken
    assert backtest.best_in_area(np.array([5.0, 0.0, 1.0]), np.array([0.0, 1.0, 1.0]), 1.0) == 6
    assert backtest.best_in_area(np.array([5.0, 0.0, 1.0]), np.array([0.0, 1.0, 1.0]), 0.0) == 5
    assert backtest.best_in_area(np.zeros(3), np.ones(3), 2.0) == 0
    # the budget is met exactly (float sums): 0.1 + 0.2 fits a budget of 0.3
    assert backtest.best_in_area(np.array([3.0, 2.0, 1.0]), np.array([0.1, 0.2, 0.3]), 0.3) == 5
    # nothing fits as a prefix, a later unit does
    assert backtest.best_in_area(np.array([9.0, 1.0]), np.array([1.0, 0.5]), 0.5) == 1
    # the prefix fits whole, then a smaller later unit after one that does not fit
    assert backtest.best_in_area(np.array([10.0, 6.0, 1.0, 1.0]), np.array([1.0, 2.0, 1.0, 2.0]), 2.0) == 11


def test_tie_break_is_the_seeded_uniform_draw():
    key = backtest.tie_break(5, seed=3)
    assert key.shape == (5,) and ((0 <= key) & (key < 1)).all()
    assert np.array_equal(key, backtest.tie_break(5, seed=3))
    assert not np.array_equal(key, backtest.tie_break(5, seed=4))
    assert np.array_equal(backtest.tie_break(4), backtest.tie_break(4, seed=0))


def test_accuracy_sentence():
    cm = _line_matrix([[3, 0, 2, 1], [0, 2, 0, 0], [1, 1, 1, 4]])
    summary, _ = backtest.backtest(cm, methods=("naive", "average"), coverages=(0.34,), origins=2)
    nv = summary[summary["method"] == "naive"].iloc[0]
    av = summary[summary["method"] == "average"].iloc[0]
    a = summary.attrs
    text = backtest.accuracy_sentence(summary, "average", 0.34)
    assert text == (f"Backtest (2 weeks from {a['first_origin']} to {a['last_origin']}): the top 34% of the area by "
                    f"this method held {av.hit_rate:.0%} of the next week's crime (PAI {av.pai:.1f}, PEI* "
                    f"{av.pei_star:.2f}); the naive last-week map held {nv.hit_rate:.0%} (PAI {nv.pai:.1f}, PEI* "
                    f"{nv.pei_star:.2f}).")
    assert backtest.accuracy_sentence(summary, "naive", 0.34).endswith(f"PEI* {nv.pei_star:.2f}).")
    assert "naive last-week" not in backtest.accuracy_sentence(summary, "naive", 0.34)
    assert backtest.accuracy_sentence(summary, "kde", 0.34) == "no backtest available"
    assert backtest.accuracy_sentence(summary, "naive") == "no backtest available"     # default coverage 5%
    five, _ = backtest.backtest(cm, methods=("naive",), coverages=(0.05,), origins=2)
    assert backtest.accuracy_sentence(five, "naive").startswith("Backtest (2 weeks")


# -- the first run's survivors (docs/testing.md) ---------------------------------------------------------------
def test_best_in_area_accumulates_the_area_it_takes():
    # densities 10, 2, 1, 1, 1 within area 3: the 10 (area 1), the 6 (area 3) no longer fits, then two of the
    # three 1s (area 1 each) and the third does not fit: 12
    assert backtest.best_in_area(np.array([10.0, 6, 1, 1, 1]), np.array([1.0, 3, 1, 1, 1]), 3.0) == 12


def test_origins_include_a_period_with_one_crime_and_none_means_all():
    cm = _line_matrix([[1, 0, 2, 0], [0, 1, 0, 1]])
    assert backtest.origin_columns(cm, 0) == [1, 2, 3]
    assert backtest.origin_columns(cm, None) == [1, 2, 3]
    assert backtest.origin_columns(cm, 2) == [2, 3]


def test_default_seed_and_the_shared_tie_break_are_deterministic():
    # 200 units, 100 of them with one crime in the test period and every score tied: which 50 are flagged
    # (25% of the area) is the seeded order's choice, the same on every run
    counts = np.zeros((200, 2))
    counts[:, 0] = 1
    counts[:100, 1] = 1
    cm = _line_matrix(counts.tolist())
    runs = [backtest.backtest(cm, methods=("naive",), coverages=(0.25,), origins=1) for _ in range(3)]
    assert all(r[0].attrs["seed"] == 0 for r in runs)
    key = np.random.default_rng(0).random(200)
    want = counts[np.lexsort((key, -counts[:, 0]))[:50], 1].sum()
    assert [r[1]["n"].iat[0] for r in runs] == [want] * 3


def test_method_parameters_reach_the_forecast():
    from workbench.hotspots import forecast

    cm = _line_matrix([[3, 0, 2, 1, 0], [0, 2, 0, 0, 1], [1, 1, 1, 4, 0], [0, 0, 3, 0, 2], [2, 0, 0, 1, 1]])
    _, detail = backtest.backtest(cm, methods=("kde",), coverages=(0.2,), origins=1, bandwidth_m=150.0)
    area = cm.units["area_km2"].to_numpy()
    s = forecast.scores(cm, 4, "kde", bandwidth_m=150.0)
    assert not np.allclose(s, forecast.scores(cm, 4, "kde"))        # the parameter matters here
    want = backtest.evaluate(s, cm.counts[:, 4], area, 0.2, backtest.tie_break(5, 0))
    row = detail[detail["method"] == "kde"].iloc[0]
    assert row["n"] == want["n"] and row["n_star"] == want["n_star"]


def test_periods_label_and_area_of_a_matrix_ending_at_until():
    cm = _line_matrix([[3, 0, 2, 1], [0, 2, 0, 0], [1, 1, 1, 4]], spacing=600)       # 0.36 km2 each
    summary, _ = backtest.backtest(cm, methods=("naive",), coverages=(0.34,), origins=2)
    assert summary.attrs["area_km2"] == 1.1                                           # 1.08 to one decimal
    cm.anchor, cm.end = "until", pd.Timestamp("2025-02-03")
    summary, _ = backtest.backtest(cm, methods=("naive",), coverages=(0.34,), origins=2)
    assert summary.attrs["periods"] == "weeks ending 2025-02-03 (--until, exclusive)"


def test_backtest_events_defaults():
    from workbench.hotspots.counts import count_matrix

    rng = np.random.default_rng(2)
    start = pd.Timestamp("2025-01-06")
    ev = pd.DataFrame({"latitude": 53.80 + rng.uniform(0, 0.02, 400), "longitude": -1.55 + rng.uniform(0, 0.03, 400),
                       "occurred_at": start + pd.to_timedelta(rng.uniform(0, 20 * 7, 400), unit="D"),
                       "force_code": "13"})
    summary, detail = backtest.backtest_events(ev, unit="grid:500", methods=("naive",))
    cm = count_matrix(ev, "grid:500", "week", periods="full")
    want_s, want_d = backtest.backtest(cm, methods=("naive",), origins=12)
    assert summary.attrs["origins"] == 12 and list(detail["origin"]) == list(want_d["origin"])
    assert list(summary["n"]) == list(want_s["n"]) and list(summary["coverage"]) == list(backtest.COVERAGES)
