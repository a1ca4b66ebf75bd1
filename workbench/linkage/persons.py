"""Person resolution end to end over prepared records: train, predict, context, cluster.

`resolve_persons(prepared, settings, must_link=(), cannot_link=())` returns a `PersonResolution` holding
the clusters (one row per record), the scored pairs kept (links, review band, strong non-links) and the
trained model (for explanations). It is the same for the store's mentions and for any DataFrame.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from workbench.linkage.clustering import cluster, context_cannot_link
from workbench.linkage.model import PersonModel
from workbench.linkage.settings import LinkageSettings
from workbench.linkage.stages import stage

CLUSTER_COLUMNS = ["record_id", "cluster_id", "match_weight", "joined_by"]


@dataclass
class PersonResolution:
    clusters: pd.DataFrame
    pairs: pd.DataFrame
    model: PersonModel | None
    settings: LinkageSettings
    stats: dict = field(default_factory=dict)
    representative: pd.Series | None = None   # record id -> the id of the record the model scored for it

    def review_pairs(self) -> pd.DataFrame:
        """Pairs in the clerical review band that the clustering did not put together."""
        p = self.pairs
        if p.empty:
            return p
        band = p[(p.match_weight >= self.settings.review) & (p.match_weight < self.settings.auto_link)
                 & p.context.isna()]
        where = self.clusters.set_index("record_id")["cluster_id"]
        return band[band.id_l.map(where) != band.id_r.map(where)].reset_index(drop=True)

    def explain(self, id_a: str, id_b: str) -> pd.DataFrame:
        from workbench.errors import WorkbenchError

        if self.model is None:
            raise WorkbenchError("no model: fewer than two records were linked")
        id_a, id_b = str(id_a), str(id_b)
        if self.representative is not None:
            for rid in (id_a, id_b):
                if rid not in self.representative.index:
                    raise WorkbenchError(f"no record with id {rid!r}")
            id_a, id_b = self.representative[id_a], self.representative[id_b]
        table = self.model.explain(id_a, id_b)
        if id_a == id_b:       # collapsed before the model ran: the waterfall of the record with itself
            note = {"comparison": "identical records", "value_a": None, "value_b": None, "match_weight": None,
                    "level": "identical in every compared attribute and in one place cell: scored as one record"}
            table = pd.concat([table.iloc[:-1], pd.DataFrame([note]), table.iloc[-1:]], ignore_index=True)
            return table
        pair = self.pairs[((self.pairs.id_l == id_a) & (self.pairs.id_r == id_b)) |
                          ((self.pairs.id_l == id_b) & (self.pairs.id_r == id_a))]
        if len(pair) and isinstance(pair.iloc[0].context, str):
            table.loc[len(table)] = {"comparison": "context", "level": f"cannot link: {pair.iloc[0].context}",
                                     "value_a": None, "value_b": None, "match_weight": None}
        return table


def empty_resolution(prepared: pd.DataFrame, settings: LinkageSettings) -> PersonResolution:
    clusters = pd.DataFrame({"record_id": prepared["unique_id"].astype(str), "cluster_id": prepared["unique_id"].astype(str),
                             "match_weight": None, "joined_by": "singleton"}, columns=CLUSTER_COLUMNS)
    pairs = pd.DataFrame(columns=["id_l", "id_r", "match_weight", "km", "hours", "context"])
    return PersonResolution(clusters, pairs, None, settings, {"records": len(prepared), "pairs_kept": 0})


IDENTITY_COLUMNS = ("forename_norm", "surname_norm", "dob", "gender_norm", "alias_norm", "postcode_norm",
                    "town_norm", "address_norm", "other_id", "place_cell")


def collapse_identical(prepared: pd.DataFrame, keep_apart=()) -> tuple[pd.DataFrame, pd.Series]:
    """Records identical in every attribute (forename, surname and date of birth all given) and seen in the
    same place cell are one person before the model runs: one representative each (the smallest id).

    Returns (representatives, mapping record id -> representative id). A representative of several records
    has no time and no group (the travel and same-referral checks are for single sightings). Records named
    in a decision (`keep_apart`) stay records of their own."""
    ids = prepared["unique_id"].astype(str)
    full = prepared["forename_norm"].notna() & prepared["surname_norm"].notna() & prepared["dob"].notna() \
        & ~ids.isin(set(keep_apart))
    key = None
    for c in IDENTITY_COLUMNS:                      # "" for a missing value, the columns joined by \x1f
        column = prepared[c].astype(object)
        text = column.where(column.notna(), "").astype(str)
        key = text if key is None else key + "\x1f" + text
    key = key.where(full, "\x00" + ids)
    rep = ids.groupby(key).transform("min")
    mapping = pd.Series(rep.to_numpy(), index=ids.to_numpy())
    sizes = rep.map(rep.value_counts())
    reps = prepared[ids.to_numpy() == rep.to_numpy()].copy()
    many = reps["unique_id"].astype(str).map(sizes.groupby(rep).first()) > 1
    reps.loc[many, "seen_at"] = pd.NaT
    reps.loc[many, "group_key"] = None
    return reps.reset_index(drop=True), mapping


def resolve_persons(prepared: pd.DataFrame, settings: LinkageSettings, must_link=(), cannot_link=(),
                    model_json: dict | None = None, backend: str = "duckdb") -> PersonResolution:
    """Train (unless `model_json` is given), predict, apply context and decisions, cluster.

    backend: "duckdb" (in-process, the default) or "spark" (Splink's Spark backend, docs/scaling.md)."""
    if len(prepared) < 2:
        return empty_resolution(prepared, settings)
    settings = settings.for_records(len(prepared))
    decided = {str(x) for pair in list(must_link) + list(cannot_link) for x in pair}
    if settings.persons.get("collapse_identical", True):
        with stage("collapse_identical", records=len(prepared)) as row:
            reps, mapping = collapse_identical(prepared, decided)
            row["representatives"] = len(reps)
    else:
        reps, mapping = prepared, pd.Series(prepared["unique_id"].astype(str).to_numpy(),
                                            index=prepared["unique_id"].astype(str).to_numpy())
    if len(reps) < 2:
        rep_clusters = pd.DataFrame({"record_id": reps["unique_id"].astype(str), "cluster_id": reps["unique_id"].astype(str),
                                     "match_weight": None, "joined_by": "singleton"})
        return _expand(prepared, mapping, rep_clusters, empty_resolution(reps, settings))
    if model_json is None and len(reps) < len(prepared):
        # the model learns from every record (u by random sampling and m by EM over the records as they
        # are, so that frequent people weigh as often as they are seen), then scores the representatives
        with stage("train", records=len(prepared)):
            trainer = PersonModel(settings, prepared, backend=backend).train()
            model_json, training_log = trainer.model_json, trainer.training_log
            if trainer.con is not None:
                trainer.con.close()
    else:
        training_log = None
    resolution = _resolve(reps, settings, must_link, cannot_link, model_json, backend)
    if training_log is not None:
        resolution.stats["training"] = training_log
    return _expand(prepared, mapping, resolution.clusters, resolution)


def _expand(prepared, mapping: pd.Series, rep_clusters: pd.DataFrame, resolution: PersonResolution) -> PersonResolution:
    """Clusters of representatives spread to every record they stand for."""
    by_rep = rep_clusters.set_index("record_id")
    ids = prepared["unique_id"].astype(str)
    reps = ids.map(mapping)
    clusters = pd.DataFrame({"record_id": ids.to_numpy(), "cluster_id": reps.map(by_rep["cluster_id"]).to_numpy(),
                             "match_weight": reps.map(by_rep["match_weight"]).to_numpy(),
                             "joined_by": reps.map(by_rep["joined_by"]).to_numpy()})
    shared = reps.map(reps.value_counts()).to_numpy() > 1
    clusters.loc[shared & (clusters.joined_by == "singleton").to_numpy(), "joined_by"] = "identical"
    label = clusters.groupby("cluster_id")["record_id"].transform("min")
    clusters["cluster_id"] = label
    resolution.clusters = clusters
    resolution.representative = mapping
    resolution.stats["records"] = int(len(prepared))
    resolution.stats["representatives"] = int(len(rep_clusters))
    resolution.stats["clusters"] = int(clusters.cluster_id.nunique())
    return resolution


def _resolve(prepared: pd.DataFrame, settings: LinkageSettings, must_link, cannot_link,
             model_json: dict | None, backend: str = "duckdb") -> PersonResolution:
    model = PersonModel(settings, prepared, model_json=model_json, backend=backend)
    if model_json is None:
        with stage("train", records=len(prepared)):
            model.train()
    with stage("predict", records=len(prepared)) as row:
        raw = model.predict(keep_at_or_above=min(settings.review, settings.auto_link),
                            keep_at_or_below=settings.separate_below)
        row["pairs_kept"] = len(raw)
    pairs = raw.rename(columns={"unique_id_l": "id_l", "unique_id_r": "id_r"})
    with stage("cluster", pairs=len(pairs)):
        pairs["context"] = context_cannot_link(pairs, settings.persons.get("context") or {})
        pairs["cannot_link"] = pairs["context"].notna()
        context = settings.persons.get("context") or {}
        dobs = None
        if context.get("conflicting_dob", True) and "dob" in prepared:
            known = prepared["dob"].notna().to_numpy()
            dobs = dict(zip(prepared["unique_id"].astype(str).to_numpy()[known], prepared["dob"].to_numpy()[known]))
        edits = int(((settings.persons.get("comparisons") or {}).get("dob") or {}).get("max_edits", 1))
        clusters = cluster(prepared["unique_id"], pairs, settings.auto_link, must_link=must_link,
                           cannot_link=cannot_link, separate_below=settings.separate_below, dobs=dobs,
                           dob_max_edits=edits)
    stats = {"records": len(prepared), "pairs_kept": int(len(pairs)),
             "links": int((pairs.match_weight >= settings.auto_link).sum()),
             "context_cuts": int(pairs.cannot_link.sum()),
             "clusters": int(clusters.cluster_id.nunique()), "training": model.training_log}
    return PersonResolution(clusters, pairs.drop(columns=["cannot_link"]), model, settings, stats)
