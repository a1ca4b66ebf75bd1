-- purpose: the incidents tied to one group: those where a current referral mentions one of its members (latest person_links) or one of its vehicles (latest vehicle_links) that no other group also uses (a shared or mis-resolved car would pull in the other group's incidents)
-- params: group_id VARCHAR - the group
-- columns: incident_id, tied_by, entity_id
SELECT DISTINCT m.incident_id, 'person' AS tied_by, l.person_id AS entity_id
FROM group_members g
JOIN person_links l ON l.person_id = g.person_id
JOIN person_mentions m ON m.mention_id = l.mention_id
JOIN referrals r ON r.referral_id = m.referral_id AND r.is_current
WHERE g.group_id = $group_id AND m.incident_id IS NOT NULL
UNION
SELECT DISTINCT v.incident_id, 'vehicle' AS tied_by, l.vehicle_id AS entity_id
FROM group_vehicles g
JOIN vehicle_links l ON l.vehicle_id = g.vehicle_id
JOIN vehicle_mentions v ON v.mention_id = l.mention_id
JOIN referrals r ON r.referral_id = v.referral_id AND r.is_current
WHERE g.group_id = $group_id AND v.incident_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM group_vehicles o WHERE o.vehicle_id = g.vehicle_id AND o.group_id <> g.group_id)
ORDER BY incident_id, tied_by, entity_id
