"""A series too large for the route map's size bound (maps.max_html_mb: planners open these offline) is drawn
with its most recent runs only, and the map says so; the other views keep every incident. Measured on the 10M
world: the most cross-border group had 4,991 incidents in 1,372 runs, an 8.6 MB map."""
from __future__ import annotations

import pytest

from tests.test_crossborder_views import linked_db  # noqa: F401  (the quick linked world, built once)
from workbench import config
from workbench.crossborder import analyse, views
from workbench.store import open_store


@pytest.fixture(scope="module")
def series(linked_db):  # noqa: F811
    with open_store(linked_db, read_only=True) as store:
        groups = store.query("crossborder/groups_active").group_id.tolist()
        analyses = [analyse(store, g) for g in groups]
    cb = max(analyses, key=lambda c: len(c.runs.runs))
    assert len(cb.runs.runs) >= 4, "a group with several runs"
    return cb


def test_recent_runs_keeps_the_latest_runs_and_the_visits_since(series):
    recent, since = views.recent_runs(series, 2)
    assert len(recent.runs.runs) == 2
    assert set(recent.runs.runs.run_id) == set(series.runs.runs.sort_values("start_at").run_id.tail(2))
    assert set(recent.runs.legs.run_id) <= set(recent.runs.runs.run_id)
    route = recent.runs.route
    assert (route.occurred_at >= since).all() and len(route) < len(series.runs.route)
    assert len(recent.series.incidents) == len(series.series.incidents)     # the series itself is whole


def test_a_route_map_over_the_bound_draws_the_recent_runs_and_says_so(series, monkeypatch):
    full = len(views.route_force_map(series).to_html().encode("utf-8"))
    one = len(views.route_force_map(views.recent_runs(series, 1)[0]).to_html().encode("utf-8"))
    assert one < full
    bound_mb = (one + (full - one) * 0.6) / 1e6
    real_get = config.get
    monkeypatch.setattr(config, "get", lambda key, *a, **k: bound_mb if key == "maps.max_html_mb" else real_get(key, *a, **k))
    page = views._bounded_route_page(series, None)
    total = len(series.runs.runs)
    assert len(page.encode("utf-8")) <= bound_mb * 1e6
    assert f"most recent of {total} runs" in page and "the timeline and flows hold every incident" in page
    kept = int(page.split(" most recent of ")[0].rsplit("Only the ", 1)[1])
    assert 1 <= kept < total
    monkeypatch.setattr(config, "get", real_get)
    whole = views._bounded_route_page(series, None)
    assert "most recent of" not in whole and len(whole.encode("utf-8")) == full
