"""Hotspots for patrol planning: statistics with measured forecast accuracy, patrol plans, briefings.

Every function takes an *events* DataFrame (latitude, longitude, occurred_at and optional filter
columns) so referral incidents (`events.from_store`) and police.uk street-level crime
(`policeuk.read_street_csvs`) feed the same methods, on H3 cells, a metric grid or LSOAs
(`cells.parse_unit("h3:8" | "grid:500" | "lsoa")`).

Modules: events, policeuk (inputs); cells (units, study area, periods); counts; kde; gistar;
emerging; knox; forecast; backtest; plan; briefing (rendering only). See docs/hotspots.md.
"""
