-- purpose: the series of active resolved persons who belong to no active group and have at least min_incidents incidents (MO linkage: known other offenders, used only as unlinked pairs against group series), with the incidents where a current referral mentions them
-- params: min_incidents BIGINT - the fewest incidents a person's series needs
-- columns: person_id, incident_id
WITH tied AS (
    SELECT DISTINCT l.person_id, m.incident_id
    FROM person_links l
    JOIN resolved_persons p ON p.person_id = l.person_id AND p.status = 'active'
    JOIN person_mentions m ON m.mention_id = l.mention_id
    JOIN referrals r ON r.referral_id = m.referral_id AND r.is_current
    WHERE m.incident_id IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM group_members g JOIN groups gr ON gr.group_id = g.group_id AND gr.status = 'active'
                      WHERE g.person_id = l.person_id)
),
sized AS (SELECT person_id FROM tied GROUP BY person_id HAVING count(*) >= $min_incidents)
SELECT t.person_id, t.incident_id FROM tied t JOIN sized USING (person_id)
ORDER BY t.person_id, t.incident_id
