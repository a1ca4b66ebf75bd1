-- purpose: the groups table for the Parquet exchange export: organised groups found in the co-offending network (workbench.exchange; every column,
--          the configured withheld ones are dropped by the caller)
-- params: none
-- columns: group_id, status, merged_into, label, members, vehicles, incidents, forces, first_seen, last_seen, tactics, modularity, density, created_run_id, updated_run_id, run_id
SELECT group_id, status, merged_into, label, members, vehicles, incidents, forces, first_seen, last_seen, tactics, modularity, density, created_run_id, updated_run_id, run_id
FROM groups
ORDER BY group_id
