-- purpose: the person_mentions table for the Parquet exchange export: persons as named in each referral (workbench.exchange; every column,
--          the configured withheld ones are dropped by the caller)
-- params: none
-- columns: mention_id, referral_id, incident_id, role, full_name, forename, surname, alias, dob_raw, dob, age_stated, gender, description, is_juvenile
SELECT mention_id, referral_id, incident_id, role, full_name, forename, surname, alias, dob_raw, dob, age_stated, gender, description, is_juvenile
FROM person_mentions
ORDER BY mention_id
