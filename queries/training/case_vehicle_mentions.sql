-- purpose: the vehicle mentions of a training case's referrals, with the vehicle the source store resolved each to
-- params: referral_ids BIGINT[] - the case's referrals
-- columns: every column of vehicle_mentions, source_vehicle_id
SELECT m.*, l.vehicle_id AS source_vehicle_id
FROM vehicle_mentions m LEFT JOIN vehicle_links l USING (mention_id)
WHERE list_contains($referral_ids, m.referral_id)
ORDER BY m.mention_id
