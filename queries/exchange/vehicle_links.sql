-- purpose: the vehicle_links table for the Parquet exchange export: the resolved vehicle of every vehicle mention (workbench.exchange; every column,
--          the configured withheld ones are dropped by the caller)
-- params: none
-- columns: mention_id, vehicle_id, run_id, joined_by, candidates
SELECT mention_id, vehicle_id, run_id, joined_by, candidates
FROM vehicle_links
ORDER BY mention_id
