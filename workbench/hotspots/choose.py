"""Choose a force's forecast method by its own rolling-origin backtest.

    method, why, summary = choose_method(cm)

Every method in forecast.METHODS (those needing unit locations only when the units have them) is
backtested on the force's own data (backtest.backtest, `origins` periods). The choice is the method
with the highest pooled hit rate at 5% of area; methods within `tolerance` (half a percentage point)
of the best count as tied, and a tie goes to the simpler method (the order of forecast.METHODS:
naive, average, prospective, kde, blend). `why` is one sentence for the briefing.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.hotspots import backtest, forecast
from workbench.hotspots.counts import CountMatrix

COVERAGE = 0.05
TOLERANCE = 0.005


def candidates(cm: CountMatrix) -> tuple[str, ...]:
    return tuple(m for m in forecast.METHODS if cm.unit.has_coordinates or m not in backtest.SPATIAL_METHODS)


def pick(summary: pd.DataFrame, coverage: float = COVERAGE, tolerance: float = TOLERANCE) -> str:
    """The best method at `coverage` in a backtest summary; within `tolerance` of the best, the simplest."""
    at = summary[np.isclose(summary["coverage"], coverage)].set_index("method")["hit_rate"].dropna()
    if at.empty:
        return "average"
    best = float(at.max())
    tied = [m for m in forecast.METHODS if m in at.index and at[m] >= best - tolerance]
    return tied[0]


def explain(summary: pd.DataFrame, method: str, coverage: float = COVERAGE) -> str:
    """One sentence: which method, what it scored, and the runner-up and long-run average beside it."""
    at = summary[np.isclose(summary["coverage"], coverage)].set_index("method")["hit_rate"]
    a = summary.attrs
    others = at.drop(method).sort_values(ascending=False)
    text = (f"Chosen by this force's own backtest ({a.get('origins')} {a.get('period')}s to {a.get('last_origin')}): "
            f"{method} flagged {at[method]:.0%} of the next {a.get('period')}'s crime in 5% of the area")
    if len(others):
        text += f", against {others.index[0]} {others.iloc[0]:.0%}"
    if method != "average" and "average" in at.index and (not len(others) or others.index[0] != "average"):
        text += f" and the long-run average {at['average']:.0%}"
    if len(others) and at[method] - others.iloc[0] <= TOLERANCE:
        text += f" (within {TOLERANCE:.1%} counts as a tie, which goes to the simpler method)"
    return text + "."


def choose_method(cm: CountMatrix, origins: int = 12, seed: int = 0, **method_params):
    """(method, sentence, backtest summary of every candidate)."""
    summary, _ = backtest.backtest(cm, methods=candidates(cm), origins=origins, seed=seed, **method_params)
    method = pick(summary)
    return method, explain(summary, method), summary
