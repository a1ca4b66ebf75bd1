-- purpose: a package's incidents with a current referral, one row per incident and referral (grading, source), with its store (linkage/network_incidents narrowed to them before the scan), for the package's association network (workbench.packages.content.package_network)
-- params: incident_ids BIGINT[] - the incidents the package's persons were mentioned at
-- columns: incident_id, crime_number, force_code, store_id, occurred_at, offence_type, value_gbp, violence, latitude, longitude, postcode, location_text, referral_id, grading, source_name, source_ref, source_row
SELECT i.incident_id, i.crime_number, i.force_code, i.store_id, i.occurred_at, i.offence_type,
       CAST(i.value_gbp AS DOUBLE) AS value_gbp, i.violence,
       coalesce(i.latitude, s.latitude) AS latitude, coalesce(i.longitude, s.longitude) AS longitude,
       i.postcode, i.location_text, r.referral_id,
       nullif(coalesce(r.source_evaluation, '') || coalesce(r.intelligence_assessment, '') || coalesce(r.handling_code, ''), '') AS grading,
       r.source_name, r.source_ref, r.source_row
FROM incidents i
JOIN referral_incidents ri ON ri.incident_id = i.incident_id
JOIN referrals r ON r.referral_id = ri.referral_id AND r.is_current
LEFT JOIN stores s ON s.store_id = i.store_id
WHERE i.incident_id IN (SELECT CAST(unnest($incident_ids) AS BIGINT))
ORDER BY i.incident_id, r.referral_id
