-- purpose: the vehicle_flags table for the Parquet exchange export: cloned-plate flags with their evidence (workbench.exchange; every column,
--          the configured withheld ones are dropped by the caller)
-- params: none
-- columns: flag_id, run_id, vrm, kind, mention_a, mention_b, evidence
SELECT flag_id, run_id, vrm, kind, mention_a, mention_b, evidence
FROM vehicle_flags
ORDER BY flag_id
