-- purpose: per incident of a package, the offenders stated against the persons named (current referrals), for the unidentified-offender gap
-- params: incident_ids BIGINT[] - the package's incidents
-- columns: incident_id, offenders_stated, persons_named
SELECT i.incident_id, i.offenders_count AS offenders_stated,
       count(DISTINCT CASE WHEN r.referral_id IS NOT NULL THEN coalesce(l.person_id, CAST(m.mention_id AS VARCHAR)) END) AS persons_named
FROM incidents i
LEFT JOIN person_mentions m ON m.incident_id = i.incident_id
LEFT JOIN referrals r ON r.referral_id = m.referral_id AND r.is_current
LEFT JOIN person_links l ON l.mention_id = m.mention_id
WHERE i.incident_id IN (SELECT CAST(unnest($incident_ids) AS BIGINT))
GROUP BY i.incident_id, i.offenders_count
ORDER BY i.incident_id
