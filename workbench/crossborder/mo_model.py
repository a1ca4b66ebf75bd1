"""The pair model of MO linkage: a logistic regression trained on the store's own linked incidents.

    data = linkage_data(store)                  # signatures of every group series incident + labels
    model = fit_model(data.encoded, data.labels)  # PairModel: .score(features), .coefficients
    model.coefficients                          # feature, coef_per_sd, odds_ratio_per_sd, mean, sd

Training pairs follow the crime-linkage literature: a linked pair is two incidents of one resolved group's
series, drawn up to `positive_pairs_per_series` per series and weighted so each series counts once (a big group
must not teach the model its own habits only); an unlinked pair joins incidents of two different groups, each
side drawn group first then incident so every group weighs the same, and an incident tied to two groups is left
out of unlinked pairs so co-offending between groups does not leak into the negatives. Linked and unlinked
weights each total the number of series. Never trained on ground truth (the store has none).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench.crossborder.mo_features import (MODEL_FEATURES, NEUTRAL, Encoded, _circular, jaccard, load_encoded,
                                               model_column, model_matrix, pair_matrix)
from workbench.crossborder.runs import EARTH_KM
from workbench.crossborder.settings import crossborder_settings
from workbench.errors import WorkbenchError

DEFAULTS = {"positive_pairs_per_series": 3000, "negative_pairs_per_series": 3000, "regularisation_c": 1.0,
            "seed": 42, "top_pairs_per_group": 3, "other_forces_only": True, "pool_limit": 5000,
            "explain_pairs": 3, "person_negatives": True, "person_min_incidents": 3,
            "unlinked_series": {"threshold": 0.9, "window_days": 21, "min_incidents": 3, "max_block": 4000,
                                "max_road_hours": 3.0, "max_signature_share": 0.02,
                                "max_unlinked_share": 0.08}}


def mo_settings(settings: dict | None = None) -> dict:
    """The `mo_linkage:` section of crossborder.yaml over the defaults, checked (one-line errors)."""
    raw = dict((settings or crossborder_settings()).get("mo_linkage") or {})
    out = {**DEFAULTS, **{k: v for k, v in raw.items() if k != "unlinked_series"}}
    out["unlinked_series"] = {**DEFAULTS["unlinked_series"], **(raw.get("unlinked_series") or {})}
    for key in ("positive_pairs_per_series", "negative_pairs_per_series", "top_pairs_per_group", "pool_limit",
                "explain_pairs"):
        if not isinstance(out[key], int) or isinstance(out[key], bool) or out[key] < 1:
            raise WorkbenchError(f"crossborder settings: mo_linkage.{key} must be a whole number of at least 1, "
                                 f"not {out[key]!r}")
    try:
        c = float(out["regularisation_c"])
    except (TypeError, ValueError):
        c = -1.0
    if not c > 0:
        raise WorkbenchError(f"crossborder settings: mo_linkage.regularisation_c must be above 0, "
                             f"not {out['regularisation_c']!r}")
    un = out["unlinked_series"]
    if not 0 < float(un["threshold"]) < 1:
        raise WorkbenchError(f"crossborder settings: mo_linkage.unlinked_series.threshold must be between 0 and 1, "
                             f"not {un['threshold']!r}")
    for key in ("max_signature_share", "max_unlinked_share"):
        if not 0 < float(un[key]) <= 1:
            raise WorkbenchError(f"crossborder settings: mo_linkage.unlinked_series.{key} must be above 0 and at "
                                 f"most 1, not {un[key]!r}")
    for key in ("window_days", "min_incidents", "max_block", "max_road_hours"):
        if not float(un[key]) >= 1:
            raise WorkbenchError(f"crossborder settings: mo_linkage.unlinked_series.{key} must be at least 1, "
                                 f"not {un[key]!r}")
    return out


@dataclass
class LinkageData:
    """Signatures of the incidents of every active group's series, encoded, with their groups."""
    encoded: Encoded
    labels: np.ndarray           # per row: the code of its group (first, when tied to several), -1 none
    multi: np.ndarray            # per row: tied to more than one group
    others: np.ndarray           # per row: the code of a resolved person outside every group (-1 none), whose
                                 # series serve only as unlinked pairs against the groups
    groups: list[str]            # code -> group id
    ties: pd.DataFrame           # group_id, incident_id
    vocab: dict = field(default_factory=dict)


def linkage_data(store, settings: dict | None = None, vocab: dict | None = None) -> LinkageData:
    """The incidents of every active group's series (and, with person_negatives, of resolved persons in no group)."""
    cfg = mo_settings(settings)
    ties = store.query("crossborder/mo_group_ties")
    persons = store.query("crossborder/mo_person_ties", min_incidents=int(cfg["person_min_incidents"])) \
        if cfg["person_negatives"] else pd.DataFrame(columns=["person_id", "incident_id"])
    persons = persons[~persons.incident_id.isin(ties.incident_id)]
    ids = sorted(set(ties.incident_id.tolist()) | set(persons.incident_id.tolist()))
    vocab = {} if vocab is None else vocab
    enc = load_encoded(store, ids, vocab)
    groups = sorted(ties.group_id.unique())
    code = {g: k for k, g in enumerate(groups)}
    ordered = ties.sort_values(["incident_id", "group_id"])
    first = ordered.drop_duplicates("incident_id").set_index("incident_id").group_id.map(code)
    labels = first.reindex(enc.incident_id).fillna(-1).to_numpy(dtype=np.int64)
    counts = ordered.incident_id.value_counts()
    multi = counts.reindex(enc.incident_id).fillna(0).to_numpy() > 1
    person_code = {p: k for k, p in enumerate(sorted(persons.person_id.unique()))}
    firstp = persons.sort_values(["incident_id", "person_id"]).drop_duplicates("incident_id") \
        .set_index("incident_id").person_id.map(person_code)
    others = firstp.reindex(enc.incident_id).fillna(-1).to_numpy(dtype=np.int64)
    return LinkageData(enc, labels, multi, others, groups, ties, vocab)


def _draw(series: list[np.ndarray], which: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One random row of series[k] for every k in `which`."""
    flat = np.concatenate(series)
    sizes = np.array([len(x) for x in series])
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    return flat[starts[which] + (rng.random(len(which)) * sizes[which]).astype(np.int64)]


def training_pairs(labels: np.ndarray, multi: np.ndarray, cfg: dict, rng: np.random.Generator,
                   others: np.ndarray | None = None):
    """(i, j, y, weight) arrays of training pairs over rows of one encoded frame (see the module docstring)."""
    series = [np.flatnonzero(labels == g) for g in np.unique(labels[labels >= 0])]
    series = [s for s in series if len(s) >= 2]
    if len(series) < 2:
        raise WorkbenchError(f"MO linkage needs at least two groups with two or more incidents each to learn from "
                             f"(this store has {len(series)}): run `workbench link run` first")
    pi, pj, pw = [], [], []
    per_pos = int(cfg["positive_pairs_per_series"])
    for rows in series:
        n = len(rows)
        if n * (n - 1) // 2 <= per_pos:
            a, b = np.triu_indices(n, 1)
        else:
            a = rng.integers(0, n, per_pos)
            b = (a + rng.integers(1, n, per_pos)) % n      # never a with itself
        pi.append(rows[a]), pj.append(rows[b]), pw.append(np.full(len(a), 1.0 / len(a)))
    clean = [s[~multi[s]] for s in series]
    clean = [s for s in clean if len(s)]
    n_neg = int(cfg["negative_pairs_per_series"]) * len(series)
    ga = rng.integers(0, len(clean), n_neg)
    gb = (ga + rng.integers(1, len(clean), n_neg)) % len(clean)
    ni, nj = _draw(clean, ga, rng), _draw(clean, gb, rng)
    person = [] if others is None else [np.flatnonzero((others == p) & (labels < 0))
                                          for p in np.unique(others[others >= 0])]
    person = [p for p in person if len(p)]
    if person:   # half the unlinked pairs: a group's incident against a known other offender's (person first)
        n_half = n_neg // 2
        ni, nj = ni[:n_neg - n_half], nj[:n_neg - n_half]
        ga = rng.integers(0, len(clean), n_half)
        pa = rng.integers(0, len(person), n_half)
        ni = np.concatenate([ni, _draw(clean, ga, rng)])
        nj = np.concatenate([nj, _draw(person, pa, rng)])
    i = np.concatenate(pi + [ni])
    j = np.concatenate(pj + [nj])
    y = np.concatenate([np.ones(sum(len(a) for a in pi)), np.zeros(len(ni))])
    w = np.concatenate(pw + [np.full(len(ni), len(series) / len(ni))])
    return i, j, y, w


def _crew_nan(a, b_, crew):
    """crew() with the offender count's -1 (unknown, for np.unique) turned back into NaN."""
    a = a.astype(float).copy()
    b_ = b_.astype(float).copy()
    a[..., 2] = np.where(a[..., 2] < 0, np.nan, a[..., 2])
    b_[..., 2] = np.where(b_[..., 2] < 0, np.nan, b_[..., 2])
    return crew(a, b_)


@dataclass
class PairModel:
    mean: np.ndarray             # the standardiser: per model column, mean and standard deviation of training pairs
    scale: np.ndarray
    coef: np.ndarray             # logistic regression coefficients on the standardised columns
    intercept: float
    features: list
    coefficients: pd.DataFrame
    training: dict

    def score(self, features) -> np.ndarray:
        """Probability-like score (0-1) that each pair is one offender group's work; `features` is a frame of
        pair_features, a dict of grid_features arrays (any shape) or a matrix of pair_matrix."""
        w, b = self.coef / self.scale, self.intercept - float(np.dot(self.coef / self.scale, self.mean))
        if isinstance(features, np.ndarray):
            return 1.0 / (1.0 + np.exp(-(features @ w + b))) if len(features) else np.zeros(0)
        logit = None
        for k, name in enumerate(self.features):   # one column at a time: a grid of millions needs no stacking
            part = w[k] * model_column(features, name)
            logit = part if logit is None else logit + part
        return 1.0 / (1.0 + np.exp(-(logit + b)))

    def linear(self) -> tuple[dict, float]:
        """The model as weights on the raw model columns (standardising folded in) and an intercept."""
        w = self.coef / self.scale
        return dict(zip(self.features, w)), self.intercept - float(np.dot(w, self.mean))

    def score_grid(self, q: Encoded, pool: Encoded, settings: dict | None = None) -> np.ndarray:
        """Scores of every (q row, pool row) pair, len(q) x len(pool), equal to score(grid_features(q, pool)) but
        fast: the features of categories (tactic masks, chain and sector, vehicle / violence / size) come from small
        tables over the distinct values on each side, and only time and place are computed per pair (float32)."""
        w, b = self.linear()
        runs = (settings or crossborder_settings())["runs"]
        f32 = np.float32

        def table(qkeys, pkeys, fn):
            uq, iq = np.unique(qkeys, axis=0, return_inverse=True)
            up, ip = np.unique(pkeys, axis=0, return_inverse=True)
            t = fn(uq[:, None], up[None, :]).astype(f32)
            return t[iq.reshape(-1)][:, ip.reshape(-1)]

        def tactics(a, b_):
            return (w["methods_jaccard"] * jaccard(a[..., 0], b_[..., 0])
                    + w["goods_jaccard"] * jaccard(a[..., 1], b_[..., 1]))

        def places(a, b_):
            return (w["same_chain"] * ((a[..., 0] == b_[..., 0]) & (a[..., 0] >= 0))
                    + w["same_sector"] * ((a[..., 1] == b_[..., 1]) & (a[..., 1] >= 0)))

        def crew(a, b_):
            size = np.abs(np.log(np.maximum(a[..., 2], 1.0)) - np.log(np.maximum(b_[..., 2], 1.0)))
            return (w["vehicle_agree"] * (a[..., 0] == b_[..., 0]) + w["violence_agree"] * (a[..., 1] == b_[..., 1])
                    + w["size_diff"] * np.where(np.isnan(size), NEUTRAL["size_diff"], size))

        logit = table(np.column_stack([q.methods, q.goods]), np.column_stack([pool.methods, pool.goods]), tactics)
        logit += table(np.column_stack([q.chain, q.sector]), np.column_stack([pool.chain, pool.sector]), places)
        logit += table(np.column_stack([q.vehicle, q.violence, np.nan_to_num(q.offenders, nan=-1.0)]),
                       np.column_stack([pool.vehicle, pool.violence, np.nan_to_num(pool.offenders, nan=-1.0)]),
                       lambda a, b_: _crew_nan(a, b_, crew))
        hour = _circular(q.hour.astype(f32)[:, None], pool.hour.astype(f32)[None, :], 24.0)
        logit += w["hour_diff"] * np.where(np.isnan(hour), f32(NEUTRAL["hour_diff"]), hour)
        del hour
        wd = _circular(q.weekday.astype(f32)[:, None], pool.weekday.astype(f32)[None, :], 7.0)
        logit += w["weekday_diff"] * np.where(np.isnan(wd), f32(NEUTRAL["weekday_diff"]), wd)
        del wd
        cos = np.clip(q.xyz @ pool.xyz.T, -1.0, 1.0)   # float64: float32 would blur a few km near zero
        road = np.arccos(cos, out=cos).astype(f32)
        road *= f32(EARTH_KM * float(runs["detour_factor"]) / float(runs["speed_limit_kmh"]))
        del cos
        days = np.abs(q.days[:, None] - pool.days[None, :]).astype(f32)
        logit += w["travel_infeasible"] * (road > days * 24.0 + 0.25)
        logit += w["log_road_hours"] * np.where(np.isnan(road), f32(NEUTRAL["log_road_hours"]), np.log1p(road))
        del road
        logit += w["log_days_apart"] * np.where(np.isnan(days), f32(NEUTRAL["log_days_apart"]), np.log1p(days))
        del days
        logit += f32(b)
        return 1.0 / (1.0 + np.exp(-logit))

    def contributions(self, features: pd.DataFrame) -> pd.DataFrame:
        """Per pair and feature: coefficient x standardised value (positive = pushes towards a link)."""
        z = (model_matrix(features) - self.mean) / self.scale
        return pd.DataFrame(z * self.coef, columns=self.features, index=features.index)


def logistic_regression(x: np.ndarray, y: np.ndarray, weight: np.ndarray, c: float, iterations: int = 100,
                        tol: float = 1e-10) -> tuple[np.ndarray, float]:
    """Weighted L2 logistic regression by Newton's method: minimises 0.5 |coef|^2 + c sum weight x log-loss (the
    intercept unpenalised), scikit-learn's LogisticRegression objective (tests check they agree); a dozen
    columns need no solver library, and the import of scikit-learn (seconds) stays out of the first call."""
    n, d = x.shape
    z = np.column_stack([x, np.ones(n)])
    beta = np.zeros(d + 1)
    penal = np.r_[np.ones(d), 0.0]

    def loss(b):
        eta = z @ b
        return 0.5 * float(np.sum(penal * b * b)) + c * float(np.sum(weight * (np.logaddexp(0.0, eta) - y * eta)))

    current = loss(beta)
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(z @ beta)))
        grad = penal * beta + c * (z.T @ (weight * (p - y)))
        hess = np.diag(penal) + c * (z.T * (weight * p * (1 - p))) @ z + 1e-12 * np.eye(d + 1)
        step = np.linalg.solve(hess, grad)
        t = 1.0
        while t > 1e-8:                      # backtracking keeps every step downhill
            trial = loss(beta - t * step)
            if trial <= current:
                break
            t /= 2
        beta, previous, current = beta - t * step, current, trial
        if previous - current <= tol * max(1.0, abs(current)):
            break
    return beta[:d], float(beta[d])


def fit_model(enc: Encoded, labels: np.ndarray, multi: np.ndarray | None = None, settings: dict | None = None,
              cfg: dict | None = None, others: np.ndarray | None = None) -> PairModel:
    """Fit the pair model on the linked / unlinked pairs of `labels` (group code per row of enc, -1 none)."""
    cfg = cfg or mo_settings(settings)
    multi = np.zeros(len(labels), dtype=bool) if multi is None else multi
    rng = np.random.default_rng(int(cfg["seed"]))
    i, j, y, w = training_pairs(labels, multi, cfg, rng, others)
    x = pair_matrix(enc, i, j, settings)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale = np.where(scale < 10 * np.finfo(float).eps, 1.0, scale)     # a constant column stays as it is
    coef_, intercept = logistic_regression((x - mean) / scale, y, w, float(cfg["regularisation_c"]))
    coef = pd.DataFrame({"feature": MODEL_FEATURES, "coef_per_sd": coef_.round(4),
                         "odds_ratio_per_sd": np.exp(coef_).round(4), "mean": mean.round(4), "sd": scale.round(4)})
    coef = pd.concat([coef, pd.DataFrame([{"feature": "intercept", "coef_per_sd": round(intercept, 4),
                                           "odds_ratio_per_sd": round(float(np.exp(intercept)), 4)}])],
                     ignore_index=True)
    training = {"series": int(len(np.unique(labels[labels >= 0]))), "linked_pairs": int(y.sum()),
                "unlinked_pairs": int((y == 0).sum())}
    return PairModel(mean, scale, coef_, intercept, list(MODEL_FEATURES), coef, training)
