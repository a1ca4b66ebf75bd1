-- purpose: disposal: which incidents the disposed referrals described
-- params: none
-- columns: (deletes referral_incidents rows)
DELETE FROM referral_incidents WHERE referral_id IN (SELECT referral_id FROM _disp_referrals)
