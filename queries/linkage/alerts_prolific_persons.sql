-- purpose: resolved persons (active) named in at least a number of distinct incidents of current referrals
-- params: min_incidents INTEGER - the prolific offender threshold (alerts.prolific_min_incidents)
-- columns: person_id, display_name, incidents
SELECT l.person_id, any_value(p.display_name) AS display_name, count(DISTINCT m.incident_id) AS incidents
FROM person_links l
JOIN person_mentions m ON m.mention_id = l.mention_id
JOIN referrals r ON r.referral_id = m.referral_id AND r.is_current
JOIN resolved_persons p ON p.person_id = l.person_id AND p.status = 'active'
WHERE m.incident_id IS NOT NULL
GROUP BY l.person_id
HAVING count(DISTINCT m.incident_id) >= $min_incidents
ORDER BY l.person_id
