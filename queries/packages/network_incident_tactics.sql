-- purpose: the tactics recorded against a package's incidents (linkage/network_incident_tactics narrowed to them), for the package's association network (workbench.packages.content.package_network)
-- params: incident_ids BIGINT[] - the network's incidents
-- columns: incident_id, tactic_code
SELECT DISTINCT incident_id, tactic_code FROM incident_tactics
WHERE incident_id IN (SELECT CAST(unnest($incident_ids) AS BIGINT))
ORDER BY incident_id, tactic_code
