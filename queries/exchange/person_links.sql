-- purpose: the person_links table for the Parquet exchange export: the resolved person of every person mention (workbench.exchange; every column,
--          the configured withheld ones are dropped by the caller)
-- params: none
-- columns: mention_id, person_id, run_id, match_weight, joined_by
SELECT mention_id, person_id, run_id, match_weight, joined_by
FROM person_links
ORDER BY mention_id
