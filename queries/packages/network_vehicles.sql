-- purpose: the resolved vehicle mentions (current referrals) at a package's incidents (linkage/network_vehicles narrowed to them before the scan), for the package's association network (workbench.packages.content.package_network)
-- params: incident_ids BIGINT[] - the incidents the package's persons were mentioned at
-- columns: mention_id, vehicle_id, vrm, vrm_format, make, colour, vrm_raw, model, incident_id, referral_id, grading, source_name, source_ref, source_row, occurred_at, force_code
SELECT v.mention_id, l.vehicle_id, rv.vrm, rv.vrm_format, rv.make, rv.colour, v.vrm_raw, v.model, v.incident_id,
       r.referral_id,
       nullif(coalesce(r.source_evaluation, '') || coalesce(r.intelligence_assessment, '') || coalesce(r.handling_code, ''), '') AS grading,
       r.source_name, r.source_ref, r.source_row, i.occurred_at, i.force_code
FROM vehicle_mentions v
JOIN vehicle_links l ON l.mention_id = v.mention_id AND l.vehicle_id IS NOT NULL
JOIN referrals r ON r.referral_id = v.referral_id
LEFT JOIN resolved_vehicles rv ON rv.vehicle_id = l.vehicle_id
LEFT JOIN incidents i ON i.incident_id = v.incident_id
WHERE r.is_current AND v.incident_id IN (SELECT CAST(unnest($incident_ids) AS BIGINT))
ORDER BY v.mention_id
