-- purpose: the vehicles on plates flagged by the latest vehicle run (cloned-plate flags), one row per flag and vehicle
-- params: none
-- columns: flag_id, kind, vrm, vehicle_id
SELECT f.flag_id, f.kind, f.vrm, l.vehicle_id
FROM vehicle_flags f
JOIN vehicle_links l ON l.mention_id IN (f.mention_a, f.mention_b)
WHERE f.run_id = (SELECT max(run_id) FROM linkage_runs WHERE entity = 'vehicle') AND l.vehicle_id IS NOT NULL
GROUP BY ALL
ORDER BY f.flag_id, l.vehicle_id
