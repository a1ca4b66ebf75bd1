-- purpose: what an analyst sees of each person mention in the review queue and the network explorer (workbench.linkage.review)
-- params: none
-- columns: mention_id, incident_id, store_id, person_id, full_name, alias, dob, dob_raw, gender, role, occurred_at, force_code, location, source_name, source_ref
SELECT m.mention_id, m.incident_id, i.store_id, l.person_id, m.full_name, m.alias, m.dob, m.dob_raw, m.gender, m.role, i.occurred_at,
       i.force_code, coalesce(s.name || ', ' || s.town, i.location_text, i.postcode) AS location,
       r.source_name, r.source_ref
FROM person_mentions m
JOIN referrals r ON r.referral_id = m.referral_id
LEFT JOIN incidents i ON i.incident_id = m.incident_id
LEFT JOIN stores s ON s.store_id = i.store_id
LEFT JOIN person_links l ON l.mention_id = m.mention_id
ORDER BY m.mention_id
