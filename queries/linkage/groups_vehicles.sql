-- purpose: the vehicles seen at one group's joint incidents, most used first (workbench groups show)
-- params: group_id VARCHAR - the group id
-- columns: vehicle_id, vrm, make, colour, incidents, run_id
SELECT v.vehicle_id, r.vrm, r.make, r.colour, v.incidents, v.run_id
FROM group_vehicles v LEFT JOIN resolved_vehicles r ON r.vehicle_id = v.vehicle_id
WHERE v.group_id = $group_id
ORDER BY v.incidents DESC, v.vehicle_id
