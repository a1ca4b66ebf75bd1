-- purpose: the resolved_vehicles table for the Parquet exchange export: resolved vehicles (every id ever allocated, with status) (workbench.exchange; every column,
--          the configured withheld ones are dropped by the caller)
-- params: none
-- columns: vehicle_id, status, merged_into, vrm, vrm_format, make, colour, mentions, first_seen, last_seen, created_run_id, updated_run_id
SELECT vehicle_id, status, merged_into, vrm, vrm_format, make, colour, mentions, first_seen, last_seen, created_run_id, updated_run_id
FROM resolved_vehicles
ORDER BY vehicle_id
