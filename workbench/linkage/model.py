"""The person model: Splink 5 on DuckDB, built from the settings file, trained without ground truth.

Components (each usable alone, Splink-like):

- `splink_settings(settings, prepared)` -> the Splink settings dict (comparisons and blocking rules from the
  named options in linkage.yaml; comparisons whose columns are empty in this data are left out);
- `PersonModel.train()` -> prior from deterministic rules, u by random sampling, m by EM (no labels);
- `PersonModel.predict()` -> scored pairs (match_weight per pair) with the context columns (distance, hours);
- `PersonModel.explain(a, b)` -> one row per comparison: level, match weight (log2 Bayes factor).

Every SQL fragment here is a constant of this module with numbers validated by `settings._check`; column
values never enter SQL text.
"""
from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from workbench.errors import WorkbenchError
from workbench.linkage.settings import LinkageSettings
from workbench.linkage.stages import stage

HAVERSINE_KM = ("(2 * 6371 * asin(sqrt(pow(sin(radians(latitude_r - latitude_l) / 2), 2) + "
                "cos(radians(latitude_l)) * cos(radians(latitude_r)) * "
                "pow(sin(radians(longitude_r - longitude_l) / 2), 2))))")
SWAPPED = "forename_norm_l = surname_norm_r AND surname_norm_l = forename_norm_r"

for _name in ("splink", "splink.internals"):
    logging.getLogger(_name).setLevel(logging.ERROR)


def _level(sql: str, label: str, null: bool = False, tf: str | None = None) -> dict:
    level = {"sql_condition": sql, "label_for_charts": label}
    if null:
        level["is_null_level"] = True
    if tf:
        level["tf_adjustment_column"] = tf
        level["tf_adjustment_weight"] = 1.0
    return level


def _else() -> dict:
    return _level("ELSE", "all other")


def _null(*columns: str) -> dict:
    return _level(" OR ".join(f"{c}_l IS NULL OR {c}_r IS NULL" for c in columns), "missing", null=True)


def _thresholds(value, default) -> list[float]:
    values = value if isinstance(value, list) else ([value] if value is not None else default)
    return sorted((float(v) for v in values), reverse=True)


def _forename(params: dict) -> dict:
    tf = bool(params.get("term_frequency", True))
    levels = [_null("forename_norm"),
              _level("forename_norm_l = forename_norm_r", "exact", tf="forename_norm" if tf else None),
              _level("forename_canon_l = forename_canon_r", "same name family (nickname)",
                     tf="forename_canon" if tf else None),
              _level(SWAPPED, "forename and surname swapped")]
    for t in _thresholds(params.get("jaro_winkler"), [0.92, 0.85]):
        levels.append(_level(f"jaro_winkler_similarity(forename_norm_l, forename_norm_r) >= {t:.4f}",
                             f"Jaro-Winkler >= {t:g}"))
    levels.append(_level("(length(forename_norm_l) = 1 OR length(forename_norm_r) = 1) AND "
                         "forename_initial_l = forename_initial_r", "initial agrees"))
    levels.append(_else())
    return {"output_column_name": "forename", "comparison_description": "forename", "comparison_levels": levels}


def _surname(params: dict) -> dict:
    tf = bool(params.get("term_frequency", True))
    levels = [_null("surname_norm"),
              _level("surname_norm_l = surname_norm_r", "exact", tf="surname_norm" if tf else None),
              _level(SWAPPED, "forename and surname swapped"),
              _level("damerau_levenshtein(surname_norm_l, surname_norm_r) <= 1", "one edit apart")]
    for t in _thresholds(params.get("jaro_winkler"), [0.94, 0.88]):
        levels.append(_level(f"jaro_winkler_similarity(surname_norm_l, surname_norm_r) >= {t:.4f}",
                             f"Jaro-Winkler >= {t:g}"))
    levels.append(_else())
    return {"output_column_name": "surname", "comparison_description": "surname", "comparison_levels": levels}


def _alias(params: dict) -> dict:
    levels = [_level("alias_norm_l IS NULL AND alias_norm_r IS NULL", "no alias on either", null=True),
              _level("alias_norm_l = alias_norm_r", "same alias"),
              _level("alias_norm_l = forename_norm_r OR alias_norm_r = forename_norm_l OR "
                     "alias_norm_l = full_name_norm_r OR alias_norm_r = full_name_norm_l",
                     "alias of one is the name of the other"),
              _else()]
    return {"output_column_name": "alias", "comparison_description": "alias (aka)", "comparison_levels": levels}


def _dob(params: dict) -> dict:
    edits = int(params.get("max_edits", 1))
    levels = [_null("dob"), _level("dob_l = dob_r", "exact"),
              _level("substr(dob_l, 1, 4) = substr(dob_r, 1, 4) AND substr(dob_l, 6, 2) = substr(dob_r, 9, 2) "
                     "AND substr(dob_l, 9, 2) = substr(dob_r, 6, 2)", "day and month swapped")]
    if edits > 0:
        levels.append(_level(f"damerau_levenshtein(dob_l, dob_r) <= {edits}",
                             f"{edits} digit typo or adjacent swap"))
    levels.append(_else())
    return {"output_column_name": "dob", "comparison_description": "date of birth", "comparison_levels": levels}


def _exact(name: str, column: str, description: str) -> dict:
    return {"output_column_name": name, "comparison_description": description,
            "comparison_levels": [_null(column), _level(f"{column}_l = {column}_r", "exact"), _else()]}


def _postcode(params: dict) -> dict:
    return {"output_column_name": "postcode", "comparison_description": "postcode",
            "comparison_levels": [_null("postcode_norm"), _level("postcode_norm_l = postcode_norm_r", "exact"),
                                  _level("postcode_out_l = postcode_out_r", "same outward code"), _else()]}


def _address(params: dict) -> dict:
    t = _thresholds(params.get("jaro_winkler"), [0.9])[0]
    return {"output_column_name": "address", "comparison_description": "address",
            "comparison_levels": [_null("address_norm"), _level("address_norm_l = address_norm_r", "exact"),
                                  _level(f"jaro_winkler_similarity(address_norm_l, address_norm_r) >= {t:.4f}",
                                         f"Jaro-Winkler >= {t:g}"), _else()]}


def _place(params: dict) -> dict:
    levels = [_level("latitude_l IS NULL OR latitude_r IS NULL OR longitude_l IS NULL OR longitude_r IS NULL",
                     "missing", null=True)]
    for km in sorted(float(k) for k in _thresholds(params.get("km"), [3, 15, 60])):
        levels.append(_level(f"{HAVERSINE_KM} <= {km:.3f}", f"within {km:g} km"))
    levels.append(_else())
    return {"output_column_name": "place", "comparison_description": "where the records were seen",
            "comparison_levels": levels}


BUILDERS = {
    "forename": (_forename, ("forename_norm",)),
    "surname": (_surname, ("surname_norm",)),
    "alias": (_alias, ("alias_norm",)),
    "dob": (_dob, ("dob",)),
    "gender": (lambda p: _exact("gender", "gender_norm", "gender"), ("gender_norm",)),
    "place": (_place, ("latitude", "longitude")),
    "postcode": (_postcode, ("postcode_norm",)),
    "town": (lambda p: _exact("town", "town_norm", "town"), ("town_norm",)),
    "address": (_address, ("address_norm",)),
    "other_id": (lambda p: _exact("other_id", "other_id", "other identifier"), ("other_id",)),
}


def _present(prepared: pd.DataFrame, columns) -> bool:
    return all(c in prepared.columns and prepared[c].notna().sum() >= 2 for c in columns)


def blocking_sql(rule) -> str:
    if rule == "swapped_names":
        return "l.forename_norm = r.surname_norm AND l.surname_norm = r.forename_norm"
    return " AND ".join(f"l.{c} = r.{c}" for c in rule)


def splink_settings(settings: LinkageSettings, prepared: pd.DataFrame) -> dict:
    persons = settings.persons
    comparisons = []
    for name, params in (persons.get("comparisons") or {}).items():
        builder, columns = BUILDERS[name]
        if _present(prepared, columns):
            comparisons.append(builder(params or {}))
    if not comparisons:
        raise WorkbenchError("no comparison can be made: the records have no names, dates of birth or other "
                             "attributes filled in")
    rules = []
    for rule in persons["blocking"]:
        columns = ("forename_norm", "surname_norm") if rule == "swapped_names" else rule
        if _present(prepared, columns):
            rules.append(blocking_sql(rule))
    if not rules:
        raise WorkbenchError("no blocking rule applies: the records lack every blocking column")
    return {"link_type": "dedupe_only", "unique_id_column_name": "unique_id",
            "blocking_rules_to_generate_predictions": rules, "comparisons": comparisons,
            "retain_matching_columns": False, "retain_intermediate_calculation_columns": False,
            "additional_columns_to_retain": [], "em_convergence": 0.001, "max_iterations": 25}


MODEL_COLUMNS = ("unique_id", "forename_norm", "surname_norm", "forename_canon", "forename_initial", "surname_initial",
                 "surname_prefix", "full_name_norm", "alias_norm", "dob", "gender_norm", "postcode_norm",
                 "postcode_out", "town_norm", "address_norm", "other_id", "latitude", "longitude", "place_cell")


@dataclass
class PersonModel:
    """Splink linker over prepared person records in its own in-memory DuckDB."""
    settings: LinkageSettings
    prepared: pd.DataFrame
    model_json: dict | None = None
    con: duckdb.DuckDBPyConnection = field(default=None, repr=False)
    training_log: list = field(default_factory=list)
    backend: str = "duckdb"     # "spark": Splink's Spark backend (workbench.linkage.spark_backend)

    def __post_init__(self):
        from splink import DuckDBAPI, Linker  # imported here: splink is heavy and only linkage needs it

        if len(self.prepared) < 2:
            raise WorkbenchError("at least two records are needed to link")
        if self.backend != "duckdb":
            from workbench.linkage import spark_backend

            spark_backend.check_backend(self.backend)
            return spark_backend.attach(self)
        self.con = duckdb.connect(":memory:")
        engine = self.settings.persons.get("duckdb") or {}
        self.con.execute(f"SET threads TO {int(engine.get('threads', 2))}")      # validated by settings._check_duckdb
        if engine.get("memory_limit"):
            self.con.execute(f"SET memory_limit = '{engine['memory_limit']}'")
        if engine.get("temp_directory"):
            self.con.execute(f"SET temp_directory = '{engine['temp_directory']}'")
        frame = self.prepared.loc[:, list(MODEL_COLUMNS)].copy()
        self.db_api = DuckDBAPI(connection=self.con)
        table = self.db_api.register(frame, table_name="person_records")
        spec = self.model_json or splink_settings(self.settings, self.prepared)
        self.linker = Linker(table, spec, log_level=logging.WARNING)

    # -- training --------------------------------------------------------------------------------
    def train(self) -> "PersonModel":
        persons = self.settings.persons
        training = persons.get("training") or {}
        seed = int(persons.get("seed", 1))
        deterministic = []
        for cols in (("forename_canon", "surname_norm", "dob"), ("forename_canon", "surname_norm", "postcode_norm"),
                     ("other_id",)):
            if _present(self.prepared, cols):
                deterministic.append(blocking_sql(list(cols)))
        if not deterministic:
            deterministic = [blocking_sql(["forename_norm", "surname_norm"])]
        with stage("prior"):
            self.linker.training.estimate_probability_two_random_records_match(
                deterministic, recall=float(training.get("prior_recall", 0.6)))
        self.training_log.append({"step": "prior", "rules": deterministic})
        with stage("u"):
            self.linker.training.estimate_u_using_random_sampling(max_pairs=float(training.get("u_max_pairs", 1e6)),
                                                                  seed=seed)
        self.training_log.append({"step": "u", "max_pairs": float(training.get("u_max_pairs", 1e6)), "seed": seed})
        sessions = 0
        for rule in training.get("em_blocking") or []:
            if not _present(self.prepared, rule):
                continue
            try:
                with stage("em " + "+".join(rule)):
                    self.linker.training.estimate_parameters_using_expectation_maximisation(
                        blocking_sql(rule), max_pairs=float(training.get("em_max_pairs", 2e6)))
            except Exception as exc:  # noqa: BLE001 - Splink raises plain exceptions for "no pairs"
                self.training_log.append({"step": "em", "rule": rule, "skipped": str(exc).splitlines()[0][:200]})
                continue
            sessions += 1
            self.training_log.append({"step": "em", "rule": rule})
        if sessions == 0:
            self.training_log.append({"step": "em", "note": "no EM session ran: m probabilities are Splink's defaults"})
        saved = self.linker.misc.save_model_to_json()
        self.model_json = json.loads(saved) if isinstance(saved, str) else saved
        return self

    # -- prediction ------------------------------------------------------------------------------
    def predict(self, keep_at_or_above: float, keep_at_or_below: float | None) -> pd.DataFrame:
        """Scored candidate pairs: unique_id_l, unique_id_r, match_weight, km, hours, group_l, group_r.

        Keeps pairs at or above `keep_at_or_above` (links and review band) and at or below `keep_at_or_below`
        (strong evidence of two people, used as cannot-link), plus every pair with context to check."""
        if self.backend == "spark":
            from workbench.linkage import spark_backend

            return spark_backend.predict(self, keep_at_or_above, keep_at_or_below)
        predictions = self.linker.inference.predict()
        name = predictions.physical_name
        self.con.register("_prepared_ctx", self.prepared.loc[:, ["unique_id", "latitude", "longitude", "seen_at",
                                                                   "group_key"]])
        low = -1e9 if keep_at_or_below is None else float(keep_at_or_below)
        frame = self.con.execute(f"""
            WITH p AS (SELECT unique_id_l, unique_id_r, match_weight FROM {name}
                       WHERE match_weight >= $high OR match_weight <= $low)
            SELECT p.unique_id_l, p.unique_id_r, p.match_weight,
                   2 * 6371 * asin(sqrt(pow(sin(radians(b.latitude - a.latitude) / 2), 2) +
                       cos(radians(a.latitude)) * cos(radians(b.latitude)) *
                       pow(sin(radians(b.longitude - a.longitude) / 2), 2))) AS km,
                   abs(epoch(b.seen_at) - epoch(a.seen_at)) / 3600.0 AS hours,
                   a.group_key AS group_l, b.group_key AS group_r
            FROM p JOIN _prepared_ctx a ON a.unique_id = p.unique_id_l
                   JOIN _prepared_ctx b ON b.unique_id = p.unique_id_r
        """, {"high": float(keep_at_or_above), "low": low}).df()
        self.con.unregister("_prepared_ctx")
        return frame

    # -- explanation -----------------------------------------------------------------------------
    def explain(self, id_a: str, id_b: str) -> pd.DataFrame:
        """Match weight per comparison for one pair: comparison, level, values, match_weight (log2 BF).

        The first row is the prior (log2 of the prior odds), the last the total."""
        ids = set(self.prepared["unique_id"])
        for rid in (id_a, id_b):
            if rid not in ids:
                raise WorkbenchError(f"no record with id {rid!r}")
        records = self.prepared.set_index("unique_id")
        rec_a = _record(records.loc[id_a])
        rec_b = _record(records.loc[id_b])
        linker = self.linker
        scored = linker.inference.score_pair(rec_a, rec_b).as_pandas_dataframe()
        row = scored.iloc[0]
        prior = linker._settings_obj._probability_two_random_records_match
        rows = [{"comparison": "prior", "level": "two random records", "value_a": None, "value_b": None,
                 "match_weight": math.log2(prior / (1 - prior))}]
        for comparison in linker._settings_obj.comparisons:
            out = comparison.output_column_name
            gamma = int(row[f"gamma_{out}"])
            level = next((lv for lv in comparison.comparison_levels if lv.comparison_vector_value == gamma), None)
            first = next((c[:-2] for c in scored.columns
                          if c.endswith("_l") and c[:-2] in MODEL_COLUMNS and c != "unique_id_l"
                          and c[:-2] in (level.sql_condition if level else "")), None)
            value_a = None if first is None else rec_a.get(first)
            value_b = None if first is None else rec_b.get(first)
            if out == "place":
                value_a, value_b = (None if rec.get("latitude") is None or rec.get("longitude") is None else
                                    f"{rec['latitude']:.4f}, {rec['longitude']:.4f}" for rec in (rec_a, rec_b))
            rows.append({"comparison": out, "level": level.label_for_charts if level else str(gamma),
                         "value_a": value_a, "value_b": value_b,
                         "match_weight": float(row[f"mw_{out}"])})
            tf = row.get(f"mw_tf_adj_{out}")
            if tf is not None and not pd.isna(tf) and float(tf) != 0.0:
                rows.append({"comparison": f"{out} (term frequency)", "level": "rarity of the agreeing value",
                             "value_a": None, "value_b": None, "match_weight": float(tf)})
        rows.append({"comparison": "total", "level": "", "value_a": None, "value_b": None,
                     "match_weight": float(row["match_weight"])})
        return pd.DataFrame(rows)


def _record(series: pd.Series) -> dict:
    rec = {"unique_id": series.name}
    for c in MODEL_COLUMNS[1:]:
        v = series.get(c)
        rec[c] = None if (v is None or (isinstance(v, float) and math.isnan(v))) else v
    return rec
