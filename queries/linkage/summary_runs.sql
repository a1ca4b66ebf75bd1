-- purpose: how many linkage runs the store records, for `workbench summary`
-- params: none
-- columns: runs
SELECT count(*) AS runs FROM linkage_runs
