-- purpose: the values a package must never disseminate, for the sanitiser's read-back check: the sources' own references of its referrals and the free-text narratives of its incidents
-- params: incident_ids BIGINT[] - the package's incidents
-- columns: kind, value, referral_id, incident_id
SELECT DISTINCT 'source_ref' AS kind, r.source_ref AS value, r.referral_id, ri.incident_id
FROM referral_incidents ri
JOIN referrals r ON r.referral_id = ri.referral_id
WHERE ri.incident_id IN (SELECT CAST(unnest($incident_ids) AS BIGINT)) AND r.source_ref IS NOT NULL
UNION ALL
SELECT DISTINCT 'narrative' AS kind, i.narrative AS value, NULL AS referral_id, i.incident_id
FROM incidents i
WHERE i.incident_id IN (SELECT CAST(unnest($incident_ids) AS BIGINT)) AND i.narrative IS NOT NULL
ORDER BY kind, incident_id, value
