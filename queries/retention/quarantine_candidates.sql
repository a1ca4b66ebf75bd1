-- purpose: quarantined rows that may hold a disposed referral's data: those of its sources (the row's values are then compared in Python with its references and crime numbers)
-- params: none
-- columns: quarantine_id, source_name, raw
SELECT quarantine_id, source_name, raw::VARCHAR AS raw FROM quarantine
WHERE source_name IN (SELECT source_name FROM referrals WHERE referral_id IN (SELECT referral_id FROM _disp_referrals))
   OR source_name IS NULL
ORDER BY quarantine_id
