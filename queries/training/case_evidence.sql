-- purpose: the evidence items of a training case's referrals
-- params: referral_ids BIGINT[] - the case's referrals
-- columns: every column of evidence_items
SELECT * FROM evidence_items WHERE list_contains($referral_ids, referral_id) ORDER BY evidence_id
