-- purpose: the vehicle_mentions table for the Parquet exchange export: vehicles as named in each referral (workbench.exchange; every column,
--          the configured withheld ones are dropped by the caller)
-- params: none
-- columns: mention_id, referral_id, incident_id, vrm_raw, vrm_norm, vrm_format, make, model, colour
SELECT mention_id, referral_id, incident_id, vrm_raw, vrm_norm, vrm_format, make, model, colour
FROM vehicle_mentions
ORDER BY mention_id
