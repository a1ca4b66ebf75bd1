-- purpose: the tactics recorded against each incident, for the network and the groups' tactics (workbench.linkage.network, groups)
-- params: none
-- columns: incident_id, tactic_code
SELECT DISTINCT incident_id, tactic_code FROM incident_tactics ORDER BY incident_id, tactic_code
