"""Kernel density estimation on a metric grid (EPSG:27700).

Default bandwidth: DEFAULT_BANDWIDTH_M = 300 m, a fixed bandwidth inside the 250-400 m range
used for street-level crime mapping (Chainey et al. 2008 use cell sizes of ~1/50 of the area's
shorter side and bandwidths a few cells wide). A fixed bandwidth keeps maps comparable between
weeks and forces. To choose it from data: `choose_bandwidth` by leave-one-out likelihood
cross-validation, or compare `forecast.scores(..., "kde", bandwidth_m=b)` in a backtest
(`workbench hotspots backtest --bandwidth`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.hotspots import cells
from workbench.hotspots.events import HotspotError, validate

DEFAULT_BANDWIDTH_M = 300.0
DEFAULT_CELL_M = 100.0


def _xy(events: pd.DataFrame) -> np.ndarray:
    ev = validate(events)
    x, y = cells.to_metric(ev["latitude"].to_numpy(), ev["longitude"].to_numpy())
    return np.column_stack([x, y])


def kde_surface(events: pd.DataFrame, bandwidth_m: float = DEFAULT_BANDWIDTH_M, cell_m: float = DEFAULT_CELL_M,
                weights=None) -> pd.DataFrame:
    """Density (events per km2) at the centre of every grid cell within 3 bandwidths of an event:
    x, y, latitude, longitude, density. Gaussian kernel, truncated at 3 bandwidths."""
    from scipy.spatial import cKDTree

    if bandwidth_m <= 0 or cell_m <= 0:
        raise HotspotError("bandwidth and cell size must be positive")
    xy = _xy(events)
    w = np.ones(len(xy)) if weights is None else np.asarray(weights, dtype=float)
    reach = 3 * bandwidth_m
    ij = np.unique(np.floor(xy / cell_m).astype(np.int64), axis=0)
    r = int(np.ceil(reach / cell_m))
    offs = np.array([(a, b) for a in range(-r, r + 1) for b in range(-r, r + 1)])
    grid = np.unique((ij[:, None, :] + offs[None, :, :]).reshape(-1, 2), axis=0)
    centres = (grid + 0.5) * cell_m
    tree = cKDTree(xy)
    density = np.zeros(len(centres))
    for start in range(0, len(centres), 50_000):
        block = centres[start:start + 50_000]
        hits = tree.query_ball_point(block, reach)
        for k, idx in enumerate(hits):
            if idx:
                d2 = ((xy[idx] - block[k]) ** 2).sum(axis=1)
                density[start + k] = (w[idx] * np.exp(-0.5 * d2 / bandwidth_m ** 2)).sum()
    density *= 1e6 / (2 * np.pi * bandwidth_m ** 2)
    keep = density > 0
    lat, lon = cells.to_lonlat(centres[keep, 0], centres[keep, 1])
    return pd.DataFrame({"x": centres[keep, 0], "y": centres[keep, 1], "latitude": lat, "longitude": lon,
                         "density": density[keep]})


def loo_log_likelihood(xy: np.ndarray, bandwidth_m: float, floor: float = 1e-12) -> float:
    """Mean leave-one-out log density of each event under the others' Gaussian KDE (truncated at 4h).
    Events at identical points (police.uk snap points, stores) count as neighbours of each other."""
    from scipy.spatial import cKDTree

    n = len(xy)
    tree = cKDTree(xy)
    pairs = tree.query_pairs(4 * bandwidth_m, output_type="ndarray")
    d2 = ((xy[pairs[:, 0]] - xy[pairs[:, 1]]) ** 2).sum(axis=1)
    k = np.exp(-0.5 * d2 / bandwidth_m ** 2)
    dens = np.bincount(pairs[:, 0], k, n) + np.bincount(pairs[:, 1], k, n)
    dens = dens / ((n - 1) * 2 * np.pi * bandwidth_m ** 2)
    return float(np.mean(np.log(np.maximum(dens, floor))))


def choose_bandwidth(events: pd.DataFrame, candidates=(150, 200, 250, 300, 400, 600, 800), max_events: int = 20_000,
                     seed: int = 0) -> pd.DataFrame:
    """Likelihood cross-validation over candidate bandwidths (metres): the table, best first."""
    xy = _xy(events)
    if len(xy) < 3:
        raise HotspotError("choosing a bandwidth needs at least three events")
    if len(xy) > max_events:
        xy = xy[np.random.default_rng(seed).choice(len(xy), max_events, replace=False)]
    rows = [{"bandwidth_m": float(b), "loo_log_likelihood": loo_log_likelihood(xy, float(b))} for b in candidates]
    return pd.DataFrame(rows).sort_values("loo_log_likelihood", ascending=False).reset_index(drop=True)
