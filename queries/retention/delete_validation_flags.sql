-- purpose: disposal: ingest warnings on the disposed referrals and the incidents only they support
-- params: none
-- columns: (deletes validation_flags rows)
DELETE FROM validation_flags WHERE referral_id IN (SELECT referral_id FROM _disp_referrals) OR incident_id IN (SELECT incident_id FROM _disp_incidents)
