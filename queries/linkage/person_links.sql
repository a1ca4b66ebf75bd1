-- purpose: the current person of every linked person mention (for stable ids and explanations)
-- params: none
-- columns: mention_id, person_id, run_id, match_weight, joined_by
SELECT mention_id, person_id, run_id, match_weight, joined_by FROM person_links ORDER BY mention_id
