-- purpose: the evidence_items table for the Parquet exchange export: evidence references held by each referral (workbench.exchange; every column,
--          the configured withheld ones are dropped by the caller)
-- params: none
-- columns: evidence_id, referral_id, incident_id, kind, reference, description
SELECT evidence_id, referral_id, incident_id, kind, reference, description
FROM evidence_items
ORDER BY evidence_id
