-- purpose: the personal and identifying values the referrals being disposed hold (temp tables _disp_referrals, _disp_incidents), to scrub them from derived text (group labels, alert labels, package words, run details, quarantine rows)
-- params: none
-- columns: kind, value
SELECT DISTINCT kind, value FROM (
    SELECT 'name' AS kind, full_name AS value FROM person_mentions WHERE referral_id IN (SELECT referral_id FROM _disp_referrals)
    UNION ALL SELECT 'name', alias FROM person_mentions WHERE referral_id IN (SELECT referral_id FROM _disp_referrals)
    UNION ALL SELECT 'name', trim(coalesce(forename, '') || ' ' || coalesce(surname, '')) FROM person_mentions
        WHERE referral_id IN (SELECT referral_id FROM _disp_referrals)
    UNION ALL SELECT 'dob', dob::VARCHAR FROM person_mentions WHERE referral_id IN (SELECT referral_id FROM _disp_referrals)
    UNION ALL SELECT 'vrm', vrm_norm FROM vehicle_mentions WHERE referral_id IN (SELECT referral_id FROM _disp_referrals)
    UNION ALL SELECT 'vrm', vrm_raw FROM vehicle_mentions WHERE referral_id IN (SELECT referral_id FROM _disp_referrals)
    UNION ALL SELECT 'crime_number', crime_number FROM incidents WHERE incident_id IN (SELECT incident_id FROM _disp_incidents)
    UNION ALL SELECT 'crime_number', crime_number_norm FROM incidents WHERE incident_id IN (SELECT incident_id FROM _disp_incidents)
    UNION ALL SELECT 'source_ref', source_ref FROM referrals WHERE referral_id IN (SELECT referral_id FROM _disp_referrals)
    UNION ALL SELECT 'reference', reference FROM evidence_items WHERE referral_id IN (SELECT referral_id FROM _disp_referrals)
) v
WHERE value IS NOT NULL AND length(trim(value)) > 0
ORDER BY kind, value
