-- purpose: the trained person model of the latest person run, for explanations
-- params: none
-- columns: run_id, model_json
SELECT run_id, model_json FROM linkage_runs WHERE entity = 'person' AND model_json IS NOT NULL
ORDER BY run_id DESC LIMIT 1
