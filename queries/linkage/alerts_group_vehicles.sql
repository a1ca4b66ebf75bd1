-- purpose: vehicles of the active groups of the latest group run (tables of migration 0008), with their VRMs
-- params: none
-- columns: vehicle_id, vrm, group_id
SELECT gv.vehicle_id, v.vrm, gv.group_id
FROM group_vehicles gv
JOIN groups g ON g.group_id = gv.group_id AND g.status = 'active'
JOIN resolved_vehicles v ON v.vehicle_id = gv.vehicle_id
WHERE gv.run_id = (SELECT max(run_id) FROM group_vehicles) AND v.vrm IS NOT NULL
ORDER BY gv.vehicle_id, gv.group_id
