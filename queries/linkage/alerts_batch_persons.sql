-- purpose: the person mentions of one ingest batch's current referrals (the new mentions to match)
-- params: batch_id BIGINT - the ingest batch
-- columns: mention_id, referral_id, full_name
SELECT m.mention_id, m.referral_id, m.full_name
FROM person_mentions m JOIN referrals r ON r.referral_id = m.referral_id
WHERE r.batch_id = $batch_id AND r.is_current
ORDER BY m.mention_id
