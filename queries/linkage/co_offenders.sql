-- purpose: the resolved persons who share at least one incident with another resolved person (current referrals only): the only persons the co-offending projection can hold, so the groups run reads the network of these persons alone instead of the whole store's (workbench.linkage.groups.find_groups)
-- params: none
-- columns: person_id
WITH seen AS (
    SELECT DISTINCT l.person_id, m.incident_id
    FROM person_mentions m
    JOIN person_links l ON l.mention_id = m.mention_id
    JOIN referrals r ON r.referral_id = m.referral_id
    WHERE r.is_current AND m.incident_id IS NOT NULL
), shared AS (
    SELECT incident_id FROM seen GROUP BY incident_id HAVING count(*) >= 2
)
SELECT DISTINCT s.person_id
FROM seen s
JOIN shared USING (incident_id)
ORDER BY s.person_id
