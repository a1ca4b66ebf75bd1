-- purpose: disposal: evidence references of the disposed referrals and of the incidents only they support
-- params: none
-- columns: (deletes evidence_items rows)
DELETE FROM evidence_items WHERE referral_id IN (SELECT referral_id FROM _disp_referrals) OR incident_id IN (SELECT incident_id FROM _disp_incidents)
