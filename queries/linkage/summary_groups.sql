-- purpose: organised groups found (active) and their members, for `workbench summary`
-- params: none
-- columns: groups, members
SELECT count(*) AS groups, coalesce(sum(members), 0) AS members FROM groups WHERE status = 'active'
