-- purpose: the group_vehicles table for the Parquet exchange export: vehicles seen at the incidents of every active group (workbench.exchange; every column,
--          the configured withheld ones are dropped by the caller)
-- params: none
-- columns: group_id, vehicle_id, incidents, run_id
SELECT group_id, vehicle_id, incidents, run_id
FROM group_vehicles
ORDER BY group_id, vehicle_id
