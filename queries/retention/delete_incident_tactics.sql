-- purpose: disposal: tactics the disposed referrals reported, and every tactic of the incidents only they support
-- params: none
-- columns: (deletes incident_tactics rows)
DELETE FROM incident_tactics WHERE referral_id IN (SELECT referral_id FROM _disp_referrals) OR incident_id IN (SELECT incident_id FROM _disp_incidents)
