-- purpose: disposal: the disposed referrals, every version
-- params: none
-- columns: (deletes referrals rows)
DELETE FROM referrals WHERE referral_id IN (SELECT referral_id FROM _disp_referrals)
