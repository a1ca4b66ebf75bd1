-- purpose: the group_members table for the Parquet exchange export: members of every active group and their network roles (workbench.exchange; every column,
--          the configured withheld ones are dropped by the caller)
-- params: none
-- columns: group_id, person_id, role, degree, betweenness, eigenvector, is_broker, is_key_player, incidents, run_id
SELECT group_id, person_id, role, degree, betweenness, eigenvector, is_broker, is_key_player, incidents, run_id
FROM group_members
ORDER BY group_id, person_id
