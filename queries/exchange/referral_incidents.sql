-- purpose: the referral_incidents table for the Parquet exchange export: which referral described which incident (workbench.exchange; every column,
--          the configured withheld ones are dropped by the caller)
-- params: none
-- columns: referral_id, incident_id, source_incident_ref
SELECT referral_id, incident_id, source_incident_ref
FROM referral_incidents
ORDER BY referral_id, incident_id
