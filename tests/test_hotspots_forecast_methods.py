"""The blend forecast (weights tuned on earlier origins only), the per-force method choice and its use
by the patrol plan and `hotspots backtest --methods all`."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from workbench.hotspots import backtest, cells, choose, forecast
from workbench.hotspots.counts import CountMatrix


def _matrix(counts, spacing: int = 100, coordinates: bool = True) -> CountMatrix:
    """Units on a line, `spacing` m apart (rows = units, columns = weeks)."""
    c = np.array(counts, dtype=float)
    n = c.shape[0]
    units = pd.DataFrame({"unit_id": [f"{i}_0" for i in range(n)], "force_code": "13",
                          "x": np.arange(n) * spacing + spacing / 2, "y": np.full(n, spacing / 2),
                          "latitude": 53.8, "longitude": -1.5, "area_km2": (spacing / 1000) ** 2, "label": ""})
    unit = cells.Unit("grid", spacing) if coordinates else cells.Unit("area", 0)
    if not coordinates:
        units = units.drop(columns=["x", "y"])
    return CountMatrix(unit=unit, period="week", units=units,
                       periods=pd.date_range("2025-01-06", periods=c.shape[1], freq="7D"), counts=c)


def _moving_hot_spot(n_units: int = 100, weeks: int = 40, move_every: int = 6, seed: int = 0) -> np.ndarray:
    """A hot spot that moves to a new unit every `move_every` weeks over a quiet background, plus a fixed
    warm unit: recent counts tell where the crime is, the long-run average remembers old places."""
    rng = np.random.default_rng(seed)
    c = rng.poisson(0.05, (n_units, weeks)).astype(float)
    for w in range(weeks):
        c[(w // move_every) * 11 % n_units, w] += 6
    c[99 % n_units, :] += 1
    return c


def test_blend_is_the_long_run_average_without_earlier_origins():
    cm = _matrix(_moving_hot_spot())
    assert forecast.blend_weights(cm, 1) == (0.0, 0.0)
    assert np.array_equal(forecast.scores(cm, 1, "blend"), forecast.scores(cm, 1, "average"))


def test_blend_weights_use_only_earlier_origins():
    counts = _moving_hot_spot()
    t = 30
    a = forecast.blend_weights(_matrix(counts), t)
    future = counts.copy()
    future[:, t:] = np.random.default_rng(9).poisson(3.0, future[:, t:].shape)   # rewrite the future
    assert forecast.blend_weights(_matrix(future), t) == a
    s1 = forecast.scores(_matrix(counts), t, "blend")
    s2 = forecast.scores(_matrix(future), t, "blend")
    assert np.array_equal(s1, s2)


def test_blend_scores_by_hand():
    # two units; window 26 covers everything, recent = last 4 weeks
    counts = [[4, 4, 4, 4, 0, 0, 0, 0], [0, 0, 0, 0, 2, 2, 2, 2]]
    cm = _matrix(counts, coordinates=False)
    p = {**forecast._defaults(cm)}
    lr = np.array([2.0, 1.0])                  # means over the 8 weeks
    recent = np.array([0.0, 2.0])              # means over the last 4
    for a in forecast.BLEND_RECENT:
        got = forecast._blend(cm, 8, a, 0.0, None, p)
        assert got == pytest.approx((1 - a) * lr + a * recent)


def test_blend_tuning_follows_a_moving_hot_spot_and_beats_the_long_run_average():
    cm = _matrix(_moving_hot_spot())
    a, b = forecast.blend_weights(cm, 36)
    assert a >= 0.5                            # recent counts carry the signal here
    summary, _ = backtest.backtest(cm, methods=("naive", "average", "blend"), origins=12)
    for coverage in (0.01, 0.05):
        at = summary[np.isclose(summary["coverage"], coverage)].set_index("method")["hit_rate"]
        assert at["blend"] > at["average"] + 0.1


def test_blend_loses_little_to_the_long_run_average_on_a_stable_pattern():
    # fixed warm units with Poisson noise: memory is what works; tuning on noise must not cost much
    rng = np.random.default_rng(2)
    rates = np.where(np.arange(100) % 17 == 0, 2.0, 0.05)
    cm = _matrix(rng.poisson(rates[:, None], (100, 40)).astype(float))
    summary, _ = backtest.backtest(cm, methods=("naive", "average", "blend"), origins=12)
    at = summary[np.isclose(summary["coverage"], 0.05)].set_index("method")["hit_rate"]
    assert at["average"] > at["naive"]
    assert at["blend"] >= at["average"] - 0.03


def test_tie_goes_to_the_simpler_weights():
    # every candidate flags the same crime (one unit with all crime): the choice is a = b = 0
    counts = np.zeros((50, 20))
    counts[7, :] = 3
    assert forecast.blend_weights(_matrix(counts), 15) == (0.0, 0.0)


def test_pick_best_at_five_percent_ties_to_simpler():
    def summary(rates):
        rows = [{"method": m, "coverage": c, "hit_rate": r if c == 0.05 else 0.0} for m, r in rates.items()
                for c in (0.01, 0.05, 0.10)]
        return pd.DataFrame(rows)
    assert choose.pick(summary({"naive": 0.30, "average": 0.40, "kde": 0.45, "blend": 0.44})) == "kde"
    assert choose.pick(summary({"naive": 0.30, "average": 0.40, "kde": 0.403, "blend": 0.404})) == "average"
    assert choose.pick(summary({"naive": 0.50, "average": 0.40, "blend": 0.52})) == "blend"


def test_choose_method_on_a_moving_hot_spot():
    cm = _matrix(_moving_hot_spot())
    method, why, summary = choose.choose_method(cm)
    assert set(summary["method"]) == set(forecast.METHODS)
    at = summary[np.isclose(summary["coverage"], 0.05)].set_index("method")["hit_rate"]
    assert at[method] >= at.max() - choose.TOLERANCE
    assert method != "average"
    assert method in why and "long-run average" in why and f"{at[method]:.0%}" in why


def test_choose_without_locations_uses_methods_without_space():
    cm = _matrix(_moving_hot_spot(), coordinates=False)
    assert choose.candidates(cm) == ("naive", "average", "blend")
    method, _, summary = choose.choose_method(cm)
    assert set(summary["method"]) == {"naive", "average", "blend"}


def test_backtest_cli_methods_all_on_police_uk_sample(capsys):
    from workbench.cli import main

    assert main(["hotspots", "backtest", "--source", "police-uk", "--unit", "lsoa", "--methods", "all",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {r["method"] for r in out["results"]} == set(forecast.METHODS)
    assert "average" in {r["method"] for r in out["results"]}


def test_patrol_plan_default_method_chosen_by_backtest_and_explained():
    from workbench.hotspots import plan, policeuk

    ev = policeuk.read_street_csvs(None)
    p = plan.patrol_plan(ev, None, force_code=None, unit="lsoa", period="month", periods="observed", top=5)
    m = p.meta
    assert m["method"] in forecast.METHODS
    summary = p.accuracy
    assert {"naive", "average", m["method"]} <= set(summary["method"])
    assert m["method_choice"].startswith("Chosen by this force's own backtest")
    at = summary[np.isclose(summary["coverage"], 0.05)].set_index("method")["hit_rate"]
    assert f"{at[m['method']]:.0%}" in m["method_choice"]
    fixed = plan.patrol_plan(ev, None, force_code=None, unit="lsoa", period="month", periods="observed", top=5,
                             method="naive")
    assert fixed.meta["method"] == "naive" and fixed.meta["method_choice"] == ""
