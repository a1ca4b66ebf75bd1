-- purpose: the referrals of a training case
-- params: referral_ids BIGINT[] - the case's referrals
-- columns: every column of referrals
SELECT * FROM referrals WHERE list_contains($referral_ids, referral_id) ORDER BY received_at, referral_id
