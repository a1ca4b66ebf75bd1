-- purpose: the members of every active group as of the latest groups run, to keep group ids stable (workbench.linkage.groups)
-- params: none
-- columns: group_id, person_id
SELECT m.group_id, m.person_id
FROM group_members m JOIN groups g ON g.group_id = m.group_id AND g.status = 'active'
ORDER BY m.group_id, m.person_id
