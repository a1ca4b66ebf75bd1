-- purpose: the resolved_persons table for the Parquet exchange export: resolved persons (every id ever allocated, with status) (workbench.exchange; every column,
--          the configured withheld ones are dropped by the caller)
-- params: none
-- columns: person_id, status, merged_into, display_name, dob, mentions, first_seen, last_seen, created_run_id, updated_run_id
SELECT person_id, status, merged_into, display_name, dob, mentions, first_seen, last_seen, created_run_id, updated_run_id
FROM resolved_persons
ORDER BY person_id
