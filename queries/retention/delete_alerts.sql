-- purpose: disposal: alerts raised for, or matched against, a disposed mention or referral
-- params: none
-- columns: (deletes alerts rows)
DELETE FROM alerts WHERE referral_id IN (SELECT referral_id FROM _disp_referrals) OR mention_id IN (SELECT mention_id FROM _disp_pm UNION ALL SELECT mention_id FROM _disp_vm) OR matched_mention IN (SELECT mention_id FROM _disp_pm UNION ALL SELECT mention_id FROM _disp_vm)
