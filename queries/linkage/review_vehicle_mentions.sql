-- purpose: what an analyst sees of each vehicle mention in the review queue and the network explorer (workbench.linkage.review)
-- params: none
-- columns: mention_id, incident_id, store_id, vehicle_id, joined_by, candidates, vrm_raw, make, model, colour, occurred_at, force_code, location, source_name, source_ref
SELECT v.mention_id, v.incident_id, i.store_id, l.vehicle_id, l.joined_by, l.candidates, v.vrm_raw, v.make, v.model, v.colour, i.occurred_at,
       i.force_code, coalesce(s.name || ', ' || s.town, i.location_text, i.postcode) AS location,
       r.source_name, r.source_ref
FROM vehicle_mentions v
JOIN referrals r ON r.referral_id = v.referral_id
LEFT JOIN incidents i ON i.incident_id = v.incident_id
LEFT JOIN stores s ON s.store_id = i.store_id
LEFT JOIN vehicle_links l ON l.mention_id = v.mention_id
ORDER BY v.mention_id
