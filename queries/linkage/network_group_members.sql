-- purpose: the active group of every grouped person, for the network's group_id column and group filter (workbench.linkage.network)
-- params: none
-- columns: person_id, group_id
SELECT m.person_id, m.group_id
FROM group_members m
JOIN groups g ON g.group_id = m.group_id AND g.status = 'active'
ORDER BY m.person_id
