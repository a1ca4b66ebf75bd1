-- purpose: which linkage tables the store has (an older schema opened
--          read-only may lack them), for `workbench summary`
-- params: none
-- columns: has_runs_table, has_groups_table
SELECT count(*) FILTER (WHERE table_name = 'linkage_runs') > 0 AS has_runs_table,
       count(*) FILTER (WHERE table_name = 'groups') > 0 AS has_groups_table
FROM information_schema.tables
WHERE table_schema = 'main' AND table_name IN ('linkage_runs', 'groups')
