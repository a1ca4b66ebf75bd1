-- purpose: the incidents table for the Parquet exchange export, with the month it happened in as a partition key
--          (workbench.exchange; partitioned by force_code and month; the configured withheld columns are dropped
--          by the caller)
-- params: none
-- columns: incident_id, crime_number, crime_number_norm, force_code, store_id, occurred_at, offence_type, value_gbp, offenders_count, violence, detained, latitude, longitude, postcode, location_text, narrative, first_batch_id, location_force_code, lsoa_code, h3_r7, h3_r8, h3_r9, force_mismatch, review_reason, month
SELECT incident_id, crime_number, crime_number_norm, force_code, store_id, occurred_at, offence_type, value_gbp,
       offenders_count, violence, detained, latitude, longitude, postcode, location_text, narrative, first_batch_id,
       location_force_code, lsoa_code, h3_r7, h3_r8, h3_r9, force_mismatch, review_reason,
       strftime(occurred_at, '%Y-%m') AS month          -- derived: YYYY-MM of occurred_at (NULL when unknown)
FROM incidents
ORDER BY incident_id
