-- purpose: every group ever given an id (active, merged, retired), for stable ids across runs (workbench.linkage.groups)
-- params: none
-- columns: group_id, status, merged_into, label, members, vehicles, incidents, forces, first_seen, last_seen, tactics, modularity, density, created_run_id, updated_run_id, run_id
SELECT group_id, status, merged_into, label, members, vehicles, incidents, forces, first_seen, last_seen, tactics,
       modularity, density, created_run_id, updated_run_id, run_id
FROM groups ORDER BY group_id
