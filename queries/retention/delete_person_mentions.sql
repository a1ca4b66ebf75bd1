-- purpose: disposal: the person mentions of the disposed referrals
-- params: none
-- columns: (deletes person_mentions rows)
DELETE FROM person_mentions WHERE referral_id IN (SELECT referral_id FROM _disp_referrals)
