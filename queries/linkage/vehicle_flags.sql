-- purpose: the cloned-plate flags of the latest vehicle run, with their evidence
-- params: none
-- columns: flag_id, run_id, vrm, kind, mention_a, mention_b, evidence
SELECT flag_id, run_id, vrm, kind, mention_a, mention_b, evidence FROM vehicle_flags
WHERE run_id = (SELECT max(run_id) FROM linkage_runs WHERE entity = 'vehicle')
ORDER BY vrm, kind, flag_id
