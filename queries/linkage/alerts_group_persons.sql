-- purpose: members of the active groups of the latest group run (tables of migration 0008), with their roles
-- params: none
-- columns: person_id, display_name, group_id, role, group_status
SELECT gm.person_id, p.display_name, gm.group_id, gm.role, g.status AS group_status
FROM group_members gm
JOIN groups g ON g.group_id = gm.group_id AND g.status = 'active'
LEFT JOIN resolved_persons p ON p.person_id = gm.person_id
WHERE gm.run_id = (SELECT max(run_id) FROM group_members)
ORDER BY gm.person_id, gm.group_id
