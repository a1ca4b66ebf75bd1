-- purpose: the name of every tactic code, for a group's tactics (workbench.linkage.groups)
-- params: none
-- columns: tactic_code, name
SELECT tactic_code, name FROM tactics ORDER BY tactic_code
