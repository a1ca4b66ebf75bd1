-- purpose: the incidents tied to one resolved vehicle: those where a current referral mentions it (latest vehicle_links)
-- params: vehicle_id VARCHAR - the resolved vehicle
-- columns: incident_id, tied_by, entity_id
SELECT DISTINCT v.incident_id, 'vehicle' AS tied_by, l.vehicle_id AS entity_id
FROM vehicle_links l
JOIN vehicle_mentions v ON v.mention_id = l.mention_id
JOIN referrals r ON r.referral_id = v.referral_id AND r.is_current
WHERE l.vehicle_id = $vehicle_id AND v.incident_id IS NOT NULL
ORDER BY incident_id
