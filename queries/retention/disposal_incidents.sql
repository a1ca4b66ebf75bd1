-- purpose: incidents that only the referrals being disposed (temp table _disp_referrals) support: no other referral describes them, names anyone at them, holds evidence of them or reported their tactics
-- params: none
-- columns: incident_id
WITH touched AS (
    SELECT incident_id FROM referral_incidents WHERE referral_id IN (SELECT referral_id FROM _disp_referrals)
    UNION SELECT incident_id FROM person_mentions WHERE referral_id IN (SELECT referral_id FROM _disp_referrals)
    UNION SELECT incident_id FROM vehicle_mentions WHERE referral_id IN (SELECT referral_id FROM _disp_referrals)
    UNION SELECT incident_id FROM evidence_items WHERE referral_id IN (SELECT referral_id FROM _disp_referrals)
    UNION SELECT incident_id FROM incident_tactics WHERE referral_id IN (SELECT referral_id FROM _disp_referrals)
),
kept AS (
    SELECT incident_id FROM referral_incidents WHERE referral_id NOT IN (SELECT referral_id FROM _disp_referrals)
    UNION SELECT incident_id FROM person_mentions WHERE referral_id NOT IN (SELECT referral_id FROM _disp_referrals)
    UNION SELECT incident_id FROM vehicle_mentions WHERE referral_id NOT IN (SELECT referral_id FROM _disp_referrals)
    UNION SELECT incident_id FROM evidence_items WHERE referral_id NOT IN (SELECT referral_id FROM _disp_referrals)
)
SELECT incident_id FROM touched
WHERE incident_id IS NOT NULL AND incident_id NOT IN (SELECT incident_id FROM kept WHERE incident_id IS NOT NULL)
ORDER BY incident_id
