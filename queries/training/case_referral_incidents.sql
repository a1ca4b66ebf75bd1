-- purpose: the current referrals' links to the incidents of a training case
-- params: incident_ids BIGINT[] - the case's incidents
-- columns: referral_id, incident_id, source_incident_ref
SELECT ri.referral_id, ri.incident_id, ri.source_incident_ref
FROM referral_incidents ri JOIN referrals r USING (referral_id)
WHERE r.is_current AND list_contains($incident_ids, ri.incident_id)
ORDER BY ri.referral_id, ri.incident_id
