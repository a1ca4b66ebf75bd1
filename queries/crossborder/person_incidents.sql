-- purpose: the incidents tied to one resolved person: those where a current referral mentions it (latest person_links)
-- params: person_id VARCHAR - the resolved person
-- columns: incident_id, tied_by, entity_id
SELECT DISTINCT m.incident_id, 'person' AS tied_by, l.person_id AS entity_id
FROM person_links l
JOIN person_mentions m ON m.mention_id = l.mention_id
JOIN referrals r ON r.referral_id = m.referral_id AND r.is_current
WHERE l.person_id = $person_id AND m.incident_id IS NOT NULL
ORDER BY incident_id
