-- purpose: the resolved persons mentioned at some incidents (current referrals, latest person_links): the subjects of a vehicle's package
-- params: incident_ids BIGINT[] - the incidents
-- columns: person_id
SELECT DISTINCT l.person_id
FROM person_mentions m
JOIN person_links l ON l.mention_id = m.mention_id
JOIN referrals r ON r.referral_id = m.referral_id AND r.is_current
WHERE m.incident_id IN (SELECT CAST(unnest($incident_ids) AS BIGINT)) AND l.person_id IS NOT NULL
ORDER BY l.person_id
