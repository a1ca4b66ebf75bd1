-- purpose: which of the tables alerts can use exist in the store (the groups tables arrive with migration 0008)
-- params: none
-- columns: table_name
SELECT table_name FROM information_schema.tables
WHERE table_schema = 'main' AND table_name IN ('groups', 'group_members', 'group_vehicles', 'alerts')
ORDER BY table_name
