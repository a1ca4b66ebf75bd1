-- purpose: the active groups (ids and labels) for the all-groups forces list (workbench.crossborder.forces)
-- params: none
-- columns: group_id, label
SELECT group_id, label FROM groups WHERE status = 'active' ORDER BY group_id
