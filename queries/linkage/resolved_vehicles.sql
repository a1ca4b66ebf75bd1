-- purpose: every resolved vehicle ever allocated (active, merged, retired), for stable ids across runs
-- params: none
-- columns: vehicle_id, status, merged_into, vrm, vrm_format, make, colour, mentions, first_seen, last_seen, created_run_id, updated_run_id
SELECT vehicle_id, status, merged_into, vrm, vrm_format, make, colour, mentions, first_seen, last_seen, created_run_id,
       updated_run_id
FROM resolved_vehicles ORDER BY vehicle_id
