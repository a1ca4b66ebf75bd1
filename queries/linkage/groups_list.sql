-- purpose: the active groups, largest first (workbench groups list)
-- params: none
-- columns: group_id, label, members, vehicles, incidents, forces, first_seen, last_seen, density, modularity, created_run_id, run_id
SELECT group_id, label, members, vehicles, incidents, forces, first_seen, last_seen, density, modularity,
       created_run_id, run_id
FROM groups WHERE status = 'active'
ORDER BY members DESC, incidents DESC, group_id
