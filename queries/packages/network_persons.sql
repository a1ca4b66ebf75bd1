-- purpose: the current mentions of a package's persons (linkage/network_persons narrowed to them before the scan), for the package's association network (workbench.packages.content.package_network)
-- params: person_ids VARCHAR[] - the package's resolved persons
-- columns: mention_id, person_id, display_name, person_dob, incident_id, role, full_name, alias, dob, gender, referral_id, grading, source_name, source_ref, source_row, occurred_at, force_code
SELECT m.mention_id, l.person_id, p.display_name, p.dob AS person_dob, m.incident_id, m.role, m.full_name, m.alias,
       m.dob, m.gender, r.referral_id,
       nullif(coalesce(r.source_evaluation, '') || coalesce(r.intelligence_assessment, '') || coalesce(r.handling_code, ''), '') AS grading,
       r.source_name, r.source_ref, r.source_row, i.occurred_at, i.force_code
FROM person_mentions m
JOIN person_links l ON l.mention_id = m.mention_id
JOIN referrals r ON r.referral_id = m.referral_id
LEFT JOIN resolved_persons p ON p.person_id = l.person_id
LEFT JOIN incidents i ON i.incident_id = m.incident_id
WHERE r.is_current AND l.person_id IN (SELECT CAST(unnest($person_ids) AS VARCHAR))
ORDER BY m.mention_id
