-- purpose: the tactics recorded for a training case's incidents by its referrals
-- params: referral_ids BIGINT[] - the case's referrals
-- columns: incident_id, tactic_code, raw_text, referral_id
SELECT incident_id, tactic_code, raw_text, referral_id FROM incident_tactics
WHERE list_contains($referral_ids, referral_id) ORDER BY incident_id, tactic_code, referral_id
