-- purpose: the vehicle mentions of one ingest batch's current referrals (the new mentions to match)
-- params: batch_id BIGINT - the ingest batch
-- columns: mention_id, referral_id, vrm_raw, make, colour
SELECT v.mention_id, v.referral_id, v.vrm_raw, v.make, v.colour
FROM vehicle_mentions v JOIN referrals r ON r.referral_id = v.referral_id
WHERE r.batch_id = $batch_id AND r.is_current
ORDER BY v.mention_id
