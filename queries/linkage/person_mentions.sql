-- purpose: every person mention with the place and time it was seen, for person resolution (workbench.linkage)
-- params: none
-- columns: mention_id, referral_id, incident_id, is_current, role, full_name, forename, surname, alias, dob, dob_raw, gender, occurred_at, latitude, longitude, force_code
SELECT m.mention_id, m.referral_id, m.incident_id, r.is_current, m.role, m.full_name, m.forename, m.surname,
       m.alias, m.dob, m.dob_raw, m.gender, i.occurred_at,
       coalesce(i.latitude, s.latitude) AS latitude, coalesce(i.longitude, s.longitude) AS longitude,
       i.force_code
FROM person_mentions m
JOIN referrals r ON r.referral_id = m.referral_id
LEFT JOIN incidents i ON i.incident_id = m.incident_id
LEFT JOIN stores s ON s.store_id = i.store_id
ORDER BY m.mention_id
