-- purpose: the members of one group with their names, roles and centrality, key players first (workbench groups show)
-- params: group_id VARCHAR - the group id
-- columns: person_id, display_name, dob, role, incidents, degree, betweenness, eigenvector, is_broker, is_key_player, run_id
SELECT m.person_id, p.display_name, p.dob, m.role, m.incidents, m.degree, m.betweenness, m.eigenvector, m.is_broker,
       m.is_key_player, m.run_id
FROM group_members m LEFT JOIN resolved_persons p ON p.person_id = m.person_id
WHERE m.group_id = $group_id
ORDER BY m.is_key_player DESC, m.eigenvector DESC, m.person_id
