-- purpose: the current vehicle of every vehicle mention (for stable ids)
-- params: none
-- columns: mention_id, vehicle_id, run_id, joined_by, candidates
SELECT mention_id, vehicle_id, run_id, joined_by, candidates FROM vehicle_links ORDER BY mention_id
