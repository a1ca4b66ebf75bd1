-- purpose: the incident_tactics table for the Parquet exchange export: tactics coded for each incident (workbench.exchange; every column,
--          the configured withheld ones are dropped by the caller)
-- params: none
-- columns: incident_id, tactic_code, raw_text, referral_id
SELECT incident_id, tactic_code, raw_text, referral_id
FROM incident_tactics
ORDER BY incident_id, tactic_code, referral_id, raw_text
