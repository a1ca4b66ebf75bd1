-- purpose: one group by id, whatever its status (workbench groups show)
-- params: group_id VARCHAR - the group id
-- columns: group_id, status, merged_into, label, members, vehicles, incidents, forces, first_seen, last_seen, tactics, modularity, density, created_run_id, updated_run_id, run_id
SELECT group_id, status, merged_into, label, members, vehicles, incidents, forces, first_seen, last_seen, tactics,
       modularity, density, created_run_id, updated_run_id, run_id
FROM groups WHERE group_id = $group_id
