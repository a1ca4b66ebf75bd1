-- purpose: referral volume per territorial force area by location (incidents, referrals and stores placed in each force)
-- params: none
-- columns: force_code, force_name, incidents, referrals, stores, force_mismatches
WITH placed AS (
    SELECT i.incident_id, i.store_id, i.force_mismatch,
           coalesce(i.location_force_code, s.location_force_code, s.force_code) AS force_code
    FROM incidents i
    LEFT JOIN stores s ON s.store_id = i.store_id
)
SELECT f.force_code,
       f.name AS force_name,
       count(DISTINCT p.incident_id) AS incidents,
       count(DISTINCT ri.referral_id) AS referrals,
       count(DISTINCT p.store_id) AS stores,
       count(DISTINCT CASE WHEN p.force_mismatch THEN p.incident_id END) AS force_mismatches
FROM forces f
LEFT JOIN placed p ON p.force_code = f.force_code
LEFT JOIN referral_incidents ri ON ri.incident_id = p.incident_id
WHERE f.territorial
GROUP BY f.force_code, f.name
ORDER BY f.force_code
