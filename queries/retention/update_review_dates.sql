-- purpose: write each referral's computed review date and its basis to every version of it (from the registered frame _review_dates: chain_key, review_due, review_basis)
-- params: none
-- columns: (updates referrals.review_due, referrals.review_basis)
UPDATE referrals SET review_due = d.review_due, review_basis = d.review_basis
FROM _review_dates d
WHERE coalesce(referrals.source_name || chr(31) || referrals.source_ref, 'id:' || referrals.referral_id::VARCHAR) = d.chain_key
  AND (referrals.review_due IS DISTINCT FROM d.review_due OR referrals.review_basis IS DISTINCT FROM d.review_basis)
