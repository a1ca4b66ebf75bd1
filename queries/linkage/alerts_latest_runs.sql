-- purpose: the latest person and vehicle linkage runs (the resolved store that new mentions are matched against)
-- params: none
-- columns: entity, run_id, model_json
SELECT entity, run_id, model_json FROM linkage_runs r
WHERE run_id = (SELECT max(run_id) FROM linkage_runs x WHERE x.entity = r.entity)
ORDER BY entity
