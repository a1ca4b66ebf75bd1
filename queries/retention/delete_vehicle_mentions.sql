-- purpose: disposal: the vehicle mentions of the disposed referrals
-- params: none
-- columns: (deletes vehicle_mentions rows)
DELETE FROM vehicle_mentions WHERE referral_id IN (SELECT referral_id FROM _disp_referrals)
