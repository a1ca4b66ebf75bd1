-- purpose: every version of the referral that holds referral_id (same source and source reference), with what identifies the chain
-- params: referral_id BIGINT - any version's id
-- columns: referral_id, source_name, source_ref, is_current, content_hash, batch_id
WITH me AS (SELECT source_name, source_ref, referral_id FROM referrals WHERE referral_id = $referral_id)
SELECT r.referral_id, r.source_name, r.source_ref, r.is_current, r.content_hash, r.batch_id
FROM referrals r, me
WHERE r.referral_id = me.referral_id
   OR (me.source_ref IS NOT NULL AND r.source_name = me.source_name AND r.source_ref = me.source_ref)
ORDER BY r.referral_id
