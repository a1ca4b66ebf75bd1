-- purpose: every vehicle mention with the place and time it was seen, for vehicle resolution (workbench.linkage)
-- params: none
-- columns: mention_id, referral_id, incident_id, is_current, vrm_raw, vrm_norm, make, model, colour, occurred_at, latitude, longitude, location, force_code
SELECT v.mention_id, v.referral_id, v.incident_id, r.is_current, v.vrm_raw, v.vrm_norm, v.make, v.model, v.colour,
       i.occurred_at, coalesce(i.latitude, s.latitude) AS latitude, coalesce(i.longitude, s.longitude) AS longitude,
       coalesce(s.name || ', ' || s.town, i.location_text, i.postcode) AS location, i.force_code
FROM vehicle_mentions v
JOIN referrals r ON r.referral_id = v.referral_id
LEFT JOIN incidents i ON i.incident_id = v.incident_id
LEFT JOIN stores s ON s.store_id = i.store_id
ORDER BY v.mention_id
